/*
** threads.c — SQLite's sorter threads for the duration of a call.
**
** CREATE INDEX (and any statement that sorts more than fits in memory)
** goes through SQLite's external sorter, which can hand the sorting and
** writing of each run, and the merges, to helper threads: PRAGMA threads,
** which is the connection's SQLITE_LIMIT_WORKER_THREADS.  It is 0 unless
** the application sets it.  A call raises it to the CPUs this process may
** run on (none on one CPU), and puts the connection's own value back when the call ends, whatever
** happened (doc/guarantees.md "Settings restored").
**
** Through sqlite3_limit(), not a PRAGMA statement: it runs on a connection
** that SQLite refuses statements on (after an interrupt or an allocation
** failure, txn.c), and it cannot fail.  SQLite caps the value at
** SQLITE_MAX_WORKER_THREADS, which is 0 in a build without threads
** (SQLITE_THREADSAFE=0): there the limit stays 0 and nothing changes.
**
** No threads on one usable CPU: a helper thread there only takes turns
** with the thread it helps.  A value the application set at or above ours
** is left alone; the threads setting (doc/reference.md "Settings") off
** leaves the connection's value as it is.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#if defined(_WIN32)
# include <windows.h>
#else
# include <sched.h>
# include <unistd.h>
#endif

/* How many CPUs this process may run on now: its affinity (taskset, a
** container's cpuset) where the system tells it, else those online. */
static int threadsUsableCpus(void){
  int n = 0;
#if defined(_WIN32)
  DWORD_PTR mProc = 0, mSys = 0;
  if( GetProcessAffinityMask(GetCurrentProcess(), &mProc, &mSys) ){
    for(; mProc; mProc &= mProc-1) n++;
  }
  if( n<1 ){
    SYSTEM_INFO si;
    GetSystemInfo(&si);
    n = (int)si.dwNumberOfProcessors;
  }
#else
# if defined(__linux__) && defined(CPU_COUNT)
  cpu_set_t set;
  /* Fails with more CPUs than a cpu_set_t holds (1024): then they are
  ** many, and the count online is as good. */
  if( sched_getaffinity(0, sizeof(set), &set)==0 ) n = CPU_COUNT(&set);
# endif
# if defined(_SC_NPROCESSORS_ONLN)
  if( n<1 ) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
# endif
#endif
  return n<1 ? 1 : n;
}

/*
** Raise the connection's sorter threads for a call; returns its value
** before, for threadsRestore.  on: the threads setting.
*/
int threadsRaise(sqlite3 *db, int on){
  int prev = sqlite3_limit(db, SQLITE_LIMIT_WORKER_THREADS, -1);
  int want;
  if( !on ) return prev;
  /* As many as the CPUs: measured side by side on two, one helper thread
  ** saved nothing and two saved a tenth of a CREATE INDEX's wall time
  ** (doc/performance.md).  On one CPU, none: a helper could only wait. */
  want = threadsUsableCpus();
  if( want<2 ) want = 0;
  if( want>prev ) sqlite3_limit(db, SQLITE_LIMIT_WORKER_THREADS, want);
  return prev;
}

/* The connection's value back, whatever the call or its scripts set. */
void threadsRestore(sqlite3 *db, int prev){
  sqlite3_limit(db, SQLITE_LIMIT_WORKER_THREADS, prev);
}
