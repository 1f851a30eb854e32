// A VFS shim over SQLite's default VFS that gathers the writes SQLite makes to a WAL file and
// hands them to the operating system as one write when the file is synced (or read, truncated,
// sized, closed, or the buffer is full).
//
// Why: SQLite appends each WAL frame in two write calls, its 24-byte header and then its page.
// A group commit of a hundred 1 KiB puts wrote 250 frames in 500 pwrite calls, and the group
// committer spent 27 % of its time in pwrite (issue 18's profile). Gathered, a commit is one
// pwrite of the whole transaction before its fsync.
//
// Why it is safe: other connections see WAL frames only after the writer has synced them and
// then published them in the wal-index (synchronous=FULL syncs every commit, and the store
// requires it), so no reader can ask for bytes still in this buffer. The writer's own reads of
// its WAL, a truncation, a size query and a file control all write the buffer out first. A
// write error surfaces at the next of those calls (the sync of the commit, at the latest) and
// the bytes not yet written are dropped with it: the commit fails, SQLite never publishes its
// frames, and nothing is acknowledged. That relies on SQLite writing nothing of a commit after
// its sync, which holds when the file is power-safe to overwrite (SQLITE_IOCAP_POWERSAFE_OVERWRITE,
// SQLite's default); without it SQLite pads the commit to a sector boundary after the sync, so
// such a file is written through, unbuffered. It also assumes one writing process per database
// (the server's): frames of a rolled-back transaction may reach the file later, past the
// published end, where only this connection's next frames overwrite them.
// Only WAL files are wrapped; the database, journal and shared-memory files are SQLite's own.
#include <sqlite3.h>
#include <stdatomic.h>
#include <string.h>
#include <pthread.h>
#include "CSQLiteWALBuffer.h"

/// Bytes gathered at most before they are written out: a commit of a few hundred frames.
#define WAL_BUFFER_CAPACITY (1024 * 1024)
/// Bytes handed to the default VFS per write: its unixWrite writes at most 128 KiB - 1 per call
/// and reports a shorter write as SQLITE_FULL.
#define WAL_WRITE_CHUNK (64 * 1024)

typedef struct WalBufferFile {
    sqlite3_file base;
    sqlite3_file *real;          // SQLite's own file, in the memory right after this struct
    unsigned char *buffer;       // WAL_BUFFER_CAPACITY bytes, allocated at the first write
    sqlite3_int64 bufferOffset;  // file offset of buffer[0]
    int bufferLength;            // bytes pending in buffer
    int writeThrough;            // not power-safe to overwrite: every write goes straight through
} WalBufferFile;

static sqlite3_vfs *realVfs;
static sqlite3_vfs walBufferVfs;
static atomic_llong osWrites, sqliteWrites;

static int flushBuffer(WalBufferFile *f) {
    int length = f->bufferLength;
    f->bufferLength = 0;
    for (int done = 0; done < length;) {
        int amount = length - done < WAL_WRITE_CHUNK ? length - done : WAL_WRITE_CHUNK;
        atomic_fetch_add(&osWrites, 1);
        int rc = f->real->pMethods->xWrite(f->real, f->buffer + done, amount, f->bufferOffset + done);
        if (rc != SQLITE_OK) return rc;
        done += amount;
    }
    return SQLITE_OK;
}

static int wbClose(sqlite3_file *file) {
    WalBufferFile *f = (WalBufferFile *)file;
    int rc = flushBuffer(f);
    int closed = f->real->pMethods->xClose(f->real);
    sqlite3_free(f->buffer);
    f->buffer = NULL;
    return rc != SQLITE_OK ? rc : closed;
}

static int wbRead(sqlite3_file *file, void *out, int amount, sqlite3_int64 offset) {
    WalBufferFile *f = (WalBufferFile *)file;
    int rc = flushBuffer(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xRead(f->real, out, amount, offset);
}

static int wbWrite(sqlite3_file *file, const void *data, int amount, sqlite3_int64 offset) {
    WalBufferFile *f = (WalBufferFile *)file;
    atomic_fetch_add(&sqliteWrites, 1);
    if (f->writeThrough) {
        atomic_fetch_add(&osWrites, 1);
        return f->real->pMethods->xWrite(f->real, data, amount, offset);
    }
    // The common case: the next bytes of the frames being appended.
    if (f->bufferLength > 0 && offset == f->bufferOffset + f->bufferLength
        && amount <= WAL_BUFFER_CAPACITY - f->bufferLength) {
        memcpy(f->buffer + f->bufferLength, data, (size_t)amount);
        f->bufferLength += amount;
        return SQLITE_OK;
    }
    int rc = flushBuffer(f);
    if (rc != SQLITE_OK) return rc;
    if (f->buffer == NULL && amount < WAL_BUFFER_CAPACITY) {
        f->buffer = sqlite3_malloc(WAL_BUFFER_CAPACITY);
    }
    if (f->buffer == NULL || amount >= WAL_BUFFER_CAPACITY) {
        // SQLite writes a frame header or a page at a time; a write this large is not one.
        atomic_fetch_add(&osWrites, 1);
        return f->real->pMethods->xWrite(f->real, data, amount, offset);
    }
    memcpy(f->buffer, data, (size_t)amount);
    f->bufferOffset = offset;
    f->bufferLength = amount;
    return SQLITE_OK;
}

static int wbTruncate(sqlite3_file *file, sqlite3_int64 size) {
    WalBufferFile *f = (WalBufferFile *)file;
    int rc = flushBuffer(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xTruncate(f->real, size);
}

static int wbSync(sqlite3_file *file, int flags) {
    WalBufferFile *f = (WalBufferFile *)file;
    int rc = flushBuffer(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xSync(f->real, flags);
}

static int wbFileSize(sqlite3_file *file, sqlite3_int64 *size) {
    WalBufferFile *f = (WalBufferFile *)file;
    int rc = flushBuffer(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xFileSize(f->real, size);
}

static int wbLock(sqlite3_file *file, int lock) {
    WalBufferFile *f = (WalBufferFile *)file;
    return f->real->pMethods->xLock(f->real, lock);
}

static int wbUnlock(sqlite3_file *file, int lock) {
    WalBufferFile *f = (WalBufferFile *)file;
    return f->real->pMethods->xUnlock(f->real, lock);
}

static int wbCheckReservedLock(sqlite3_file *file, int *out) {
    WalBufferFile *f = (WalBufferFile *)file;
    return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int wbFileControl(sqlite3_file *file, int op, void *arg) {
    WalBufferFile *f = (WalBufferFile *)file;
    int rc = flushBuffer(f);
    if (rc != SQLITE_OK) return rc;
    return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int wbSectorSize(sqlite3_file *file) {
    WalBufferFile *f = (WalBufferFile *)file;
    return f->real->pMethods->xSectorSize(f->real);
}

static int wbDeviceCharacteristics(sqlite3_file *file) {
    WalBufferFile *f = (WalBufferFile *)file;
    return f->real->pMethods->xDeviceCharacteristics(f->real);
}

// Version 1: a WAL file has no shared memory (that is the database file's) and is not mapped.
static const sqlite3_io_methods walBufferMethods = {
    1, wbClose, wbRead, wbWrite, wbTruncate, wbSync, wbFileSize, wbLock, wbUnlock,
    wbCheckReservedLock, wbFileControl, wbSectorSize, wbDeviceCharacteristics,
    NULL, NULL, NULL, NULL, NULL, NULL,
};

static int wbOpen(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *file, int flags, int *outFlags) {
    (void)vfs;
    if (!(flags & SQLITE_OPEN_WAL)) {
        // Any other file is SQLite's own, in the same memory (szOsFile covers it).
        return realVfs->xOpen(realVfs, name, file, flags, outFlags);
    }
    WalBufferFile *f = (WalBufferFile *)file;
    memset(f, 0, sizeof(*f));
    f->real = (sqlite3_file *)&f[1];
    int rc = realVfs->xOpen(realVfs, name, f->real, flags, outFlags);
    // SQLite calls xClose on a file whose pMethods is set, even when xOpen failed.
    f->base.pMethods = (rc == SQLITE_OK && f->real->pMethods != NULL) ? &walBufferMethods : NULL;
    if (f->base.pMethods != NULL) {
        int characteristics = f->real->pMethods->xDeviceCharacteristics(f->real);
        f->writeThrough = (characteristics & SQLITE_IOCAP_POWERSAFE_OVERWRITE) == 0;
    }
    return rc;
}

// Everything else is the default VFS's, called with the default VFS.
static int wbDelete(sqlite3_vfs *v, const char *n, int s) { (void)v; return realVfs->xDelete(realVfs, n, s); }
static int wbAccess(sqlite3_vfs *v, const char *n, int f, int *o) { (void)v; return realVfs->xAccess(realVfs, n, f, o); }
static int wbFullPathname(sqlite3_vfs *v, const char *n, int l, char *o) { (void)v; return realVfs->xFullPathname(realVfs, n, l, o); }
static void *wbDlOpen(sqlite3_vfs *v, const char *n) { (void)v; return realVfs->xDlOpen(realVfs, n); }
static void wbDlError(sqlite3_vfs *v, int l, char *o) { (void)v; realVfs->xDlError(realVfs, l, o); }
static void (*wbDlSym(sqlite3_vfs *v, void *h, const char *s))(void) { (void)v; return realVfs->xDlSym(realVfs, h, s); }
static void wbDlClose(sqlite3_vfs *v, void *h) { (void)v; realVfs->xDlClose(realVfs, h); }
static int wbRandomness(sqlite3_vfs *v, int l, char *o) { (void)v; return realVfs->xRandomness(realVfs, l, o); }
static int wbSleep(sqlite3_vfs *v, int us) { (void)v; return realVfs->xSleep(realVfs, us); }
static int wbCurrentTime(sqlite3_vfs *v, double *t) { (void)v; return realVfs->xCurrentTime(realVfs, t); }
static int wbGetLastError(sqlite3_vfs *v, int l, char *o) { (void)v; return realVfs->xGetLastError(realVfs, l, o); }
static int wbCurrentTimeInt64(sqlite3_vfs *v, sqlite3_int64 *t) { (void)v; return realVfs->xCurrentTimeInt64(realVfs, t); }

static int registered = SQLITE_ERROR;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void registerOnce(void) {
    realVfs = sqlite3_vfs_find(NULL);
    if (realVfs == NULL || realVfs->iVersion < 2 || realVfs->xCurrentTimeInt64 == NULL) {
        registered = SQLITE_ERROR;
        return;
    }
    memset(&walBufferVfs, 0, sizeof(walBufferVfs));
    walBufferVfs.iVersion = 2;
    walBufferVfs.szOsFile = (int)sizeof(WalBufferFile) + realVfs->szOsFile;
    walBufferVfs.mxPathname = realVfs->mxPathname;
    walBufferVfs.zName = CHAINKV_WAL_BUFFER_VFS;
    walBufferVfs.xOpen = wbOpen;
    walBufferVfs.xDelete = wbDelete;
    walBufferVfs.xAccess = wbAccess;
    walBufferVfs.xFullPathname = wbFullPathname;
    walBufferVfs.xDlOpen = wbDlOpen;
    walBufferVfs.xDlError = wbDlError;
    walBufferVfs.xDlSym = wbDlSym;
    walBufferVfs.xDlClose = wbDlClose;
    walBufferVfs.xRandomness = wbRandomness;
    walBufferVfs.xSleep = wbSleep;
    walBufferVfs.xCurrentTime = wbCurrentTime;
    walBufferVfs.xGetLastError = wbGetLastError;
    walBufferVfs.xCurrentTimeInt64 = wbCurrentTimeInt64;
    registered = sqlite3_vfs_register(&walBufferVfs, 0);
}

int chainkv_wal_buffer_register(void) {
    pthread_once(&once, registerOnce);
    return registered;
}

void chainkv_wal_buffer_counts(long long *os_writes, long long *sqlite_writes) {
    *os_writes = atomic_load(&osWrites);
    *sqlite_writes = atomic_load(&sqliteWrites);
}
