/* entry_nosyscfg: todo */
#include "test.h"
int main(void)
{
	test_done();
}
