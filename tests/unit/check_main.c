/*
 * Runner for one Check suite: the Makefile builds one binary per pure
 * module with -DSUITE=<module>_suite, so each test links only the code it
 * tests.  CK_FORK stays on; CK_RUN_CASE picks one case.
 */
#include <stdlib.h>

#include <check.h>

Suite	*SUITE(void);

int
main(void)
{
	SRunner	*sr;
	int	 failed;

	sr = srunner_create(SUITE());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
