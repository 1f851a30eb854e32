#ifndef CHAINKV_WAL_BUFFER_H
#define CHAINKV_WAL_BUFFER_H

/// The name of the SQLite VFS that gathers each transaction's WAL frames into one write
/// (walbuffer.c explains why and what it keeps). Open a connection with it as the fourth
/// argument of sqlite3_open_v2, after chainkv_wal_buffer_register() returned SQLITE_OK.
#define CHAINKV_WAL_BUFFER_VFS "chainkv-walbuf"

/// Registers the VFS over SQLite's default one (not as the default). Safe to call more than
/// once and from any thread; returns SQLITE_OK or SQLite's error code.
int chainkv_wal_buffer_register(void);

/// Writes that reached the operating system for WAL files opened through the VFS, and writes
/// SQLite made to them (buffered or not), since the process started: for tests and metrics.
void chainkv_wal_buffer_counts(long long *os_writes, long long *sqlite_writes);

#endif
