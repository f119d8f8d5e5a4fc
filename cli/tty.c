/*
** tty.c — whether stderr is a terminal: the trace, one line per migration
** as it runs, is shown there, and output stays plain anywhere else.
*/
#include "cli.h"
#include <stdio.h>
#ifdef _WIN32
# include <io.h>
#else
# include <unistd.h>
#endif

int cliStderrIsTerminal(void){
#ifdef _WIN32
  return _isatty(_fileno(stderr))!=0;
#else
  return isatty(fileno(stderr))!=0;
#endif
}
