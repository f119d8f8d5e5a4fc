/*
** outorder.c — the out_of_order setting (doc/reference.md "Settings"):
** pending migrations whose version is below the newest applied one.
**
** Off (the default), migrate_apply refuses them, the migrations table shows
** them as 'out_of_order' and migrate_check reports an `order` row.  On, they
** are applied in version order with the others of the call, shown and
** checked as 'pending', and each one's migrate_log row says it ran out of
** order: "004_x.sql (out of order: 7 was applied)", the newest version
** applied when it ran.  The table's layout stays as it is.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

/* Below which version a pending migration is out of order and refused:
** the newest applied version, or INT64_MIN when none is or the setting is on. */
int outorderFloor(sqlite3 *db, int on, i64 *pFloor, char **pzErr){
  i64 v = 0;
  int any = 0, rc = SQLITE_OK;
  *pFloor = INT64_MIN;
  if( on ) return SQLITE_OK;
  rc = historyMax(db, &v, &any, pzErr);
  if( rc==SQLITE_OK && any ) *pFloor = v;
  return rc;
}

/* The log message of migration v as it is applied now: NULL (its label will
** do) unless a newer version is already applied. */
int outorderLabel(sqlite3 *db, i64 v, const char *zLabel, char **pzMsg,
                  char **pzErr){
  i64 vMax = 0;
  int any = 0;
  int rc = historyMax(db, &vMax, &any, pzErr);
  *pzMsg = 0;
  if( rc==SQLITE_OK && any && vMax>v ){
    *pzMsg = sqlite3_mprintf("%s (out of order: %lld was applied)", zLabel, vMax);
    if( *pzMsg==0 ) rc = SQLITE_NOMEM;
  }
  return rc;
}
