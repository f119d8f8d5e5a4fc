/* version.h — made by the Makefile from the VERSION file (test/version.test
** checks that they agree): edit VERSION, not this file. */
#ifndef MIGRATE_VERSION
#define MIGRATE_VERSION "0.1.0"
#endif
