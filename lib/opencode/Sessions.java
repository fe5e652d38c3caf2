//DEPS org.xerial:sqlite-jdbc:3.54.1.0

package opencode;

import base.Log;
import base.UserFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * OpenCode's sessions: rows of table {@code session} in {@code <data>/opencode.db} (SQLite, WAL).
 * The database is the user's: root never opens it where it lies (SQLite would follow her links
 * and write its -shm beside it). Its file and WAL are copied, each bounded and read as her file
 * (no symlink, hers, the inode checked), into a folder of root's, and the copy is read. The
 * top-level rows are kept by the files' size and time, so a save with several OpenCode
 * processes of one user copies once.
 */
final class Sessions {
    /** A top-level session: its id, the directory it was made in, when made and last updated. */
    record Row(String id, Path directory, Instant created, Instant updated) {}

    /** A database larger than this is not copied: its sessions are not named (said in the log). */
    static final long MAX_DB = 512L << 20;
    /** More sessions than are read: the newest, by their last update. */
    static final int MAX_ROWS = 100_000;

    private record Key(Path db, List<Object> stat) {}

    private static final Map<Key, List<Row>> READ = new ConcurrentHashMap<>();

    private Sessions() {}

    /** Every top-level session of the database under {@code data} (her trusted {@code opencode} folder), newest first; none when it cannot be read. */
    static List<Row> of(Path data, int uid) {
        Path db = data.resolve("opencode.db"), wal = data.resolve("opencode.db-wal");
        Key key = new Key(db, List.of(stat(db), stat(wal)));
        List<Row> known = READ.get(key);
        if (known != null) return known;
        List<Row> rows = copyAndRead(data, db, wal, uid);
        if (READ.size() > 64) READ.clear(); // a long-lived JVM (the tests) keeps it bounded
        READ.put(key, rows);
        return rows;
    }

    private static List<Row> copyAndRead(Path data, Path db, Path wal, int uid) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("t3-opencode-"); // 0700, root's
            Path copy = dir.resolve("opencode.db");
            if (!UserFiles.copyBounded(db, uid, data, MAX_DB, copy)) {
                if (Files.exists(db, LinkOption.NOFOLLOW_LINKS)) Log.warn("%s: not read (not her regular file, over %d MiB, or too slow); its sessions are not named", db, MAX_DB >> 20);
                return List.of();
            }
            // The WAL holds the newest rows (a session is made at a first prompt); none is fine.
            if (Files.exists(wal, LinkOption.NOFOLLOW_LINKS)) UserFiles.copyBounded(wal, uid, data, MAX_DB, dir.resolve("opencode.db-wal"));
            return read(copy);
        } catch (IOException | SQLException | RuntimeException e) {
            Log.warn("%s: cannot read its sessions: %s", db, e.getMessage());
            return List.of();
        } finally {
            if (dir != null) delete(dir);
        }
    }

    private static List<Row> read(Path copy) throws SQLException {
        List<Row> rows = new ArrayList<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + copy);
             PreparedStatement q = c.prepareStatement("select id, directory, time_created, time_updated from session"
                     + " where parent_id is null order by time_updated desc limit " + MAX_ROWS);
             ResultSet r = q.executeQuery()) {
            while (r.next()) {
                String id = r.getString(1), dir = r.getString(2);
                if (!OpenCode.isSessionId(id) || dir == null || !dir.startsWith("/") || dir.indexOf('\0') >= 0) continue;
                rows.add(new Row(id, Path.of(dir), Instant.ofEpochMilli(r.getLong(3)), Instant.ofEpochMilli(r.getLong(4))));
            }
        }
        return List.copyOf(rows);
    }

    private static Object stat(Path f) {
        try {
            Map<String, Object> a = Files.readAttributes(f, "unix:ino,size,lastModifiedTime,ctime", LinkOption.NOFOLLOW_LINKS);
            return List.of(a.get("ino"), a.get("size"), a.get("lastModifiedTime"), a.get("ctime"));
        } catch (IOException | RuntimeException e) {
            return "none";
        }
    }

    private static void delete(Path dir) {
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) Files.deleteIfExists(f);
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // a temp folder of root's left behind: nothing of hers
        }
    }

    static Optional<Row> byId(List<Row> rows, String id) {
        return rows.stream().filter(r -> r.id().equals(id)).findFirst();
    }
}
