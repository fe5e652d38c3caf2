import base.Accounts;
import claude.LiveRecords;
import base.Procfs;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run reads each live record once while it is unchanged, and afresh the moment it is not. */
class LiveRecordsTest {
    static final String A = "11111111-2222-4333-8444-555555555555", B = "11111111-2222-4333-8444-666666666666";

    @Test
    void aRecordRewrittenInPlaceIsReadAfreshEvenWithItsSizeAndMtimeKept(@TempDir Path tmp) throws Exception {
        Path config = Files.createDirectories(tmp.resolve("cfg/sessions")).getParent().toRealPath();
        Procfs procs = Procfs.read();
        int gone = 300;
        while (procs.get(gone).isPresent()) gone++; // a pid no process has now: its record is a crash's
        Path record = config.resolve("sessions/" + gone + ".json");
        int me = Accounts.currentUid();

        Files.writeString(record, text(gone, A));
        FileTime mtime = Files.getLastModifiedTime(record);
        assertEquals(List.of(A), conversations(config, me, procs));
        assertEquals(List.of(A), conversations(config, me, procs), "unchanged: the same answer");

        // Same inode, same size, the mtime put back: only the ctime (which no user can set) moved.
        Object ctime = Files.getAttribute(record, "unix:ctime");
        do { // within one tick of the file system's clock the ctime cannot move: write until it has
            Files.writeString(record, text(gone, B));
            Files.setLastModifiedTime(record, mtime);
        } while (Files.getAttribute(record, "unix:ctime").equals(ctime));
        assertEquals(Files.size(record), text(gone, A).length());
        assertEquals(List.of(B), conversations(config, me, procs), "rewritten: read again");

        Files.delete(record);
        assertEquals(List.of(), conversations(config, me, procs), "gone: no evidence");
    }

    static String text(int pid, String id) {
        return "{\"pid\":" + pid + ",\"sessionId\":\"" + id + "\",\"procStart\":\"5\",\"tmux\":\"%1\"}";
    }

    static List<String> conversations(Path config, int uid, Procfs procs) {
        return LiveRecords.stale(config, uid, procs, procs.bootTime()).stream().map(LiveRecords.Record::conversation).toList();
    }
}
