/*
 * mkbadimg.c - write a malformed copy of an application image, for the
 * shell tests of the tool's refusals (image_cli.sh).
 *
 * usage: mkbadimg GOOD.img KIND OUT.img   (KIND: see badimage.c; "list" prints them)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "badimage.h"

int main(int argc, char **argv)
{
	static uint8_t img[1u << 20];
	size_t len;
	FILE *f;
	unsigned i;

	if (argc == 2 && strcmp(argv[1], "list") == 0) {
		for (i = 0; i < badimage_nkinds; i++)
			printf("%s %d %s\n", badimage_kinds[i].name, (int)badimage_kinds[i].status,
			       badimage_kinds[i].problem);
		return 0;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: mkbadimg GOOD.img KIND OUT.img | mkbadimg list\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	len = fread(img, 1, sizeof(img), f);
	fclose(f);
	if (!badimage_make(img, len, argv[2])) {
		fprintf(stderr, "mkbadimg: unknown kind '%s' or %s too short\n", argv[2], argv[1]);
		return 2;
	}
	f = fopen(argv[3], "wb");
	if (!f || fwrite(img, 1, len, f) != len || fclose(f) != 0) {
		perror(argv[3]);
		return 1;
	}
	return 0;
}
