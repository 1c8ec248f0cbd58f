/* uart_echo: todo */
#include "test.h"
int main(void)
{
	test_done();
}
