import static org.junit.jupiter.api.Assertions.*;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import store.SnapshotFormat;
import tmux.Tmux;

/**
 * The snapshot file, byte for byte: the same sessions give the same file as the release that
 * wrote tests/fixtures/snapshot-v4.tsv, so a change to the model or the codec that would rewrite
 * every user's snapshot (or misread one) cannot pass unnoticed. The fixture holds every kind of
 * row and field: windows with each flag, hostile names, panes with and without a conversation, a
 * reason for each way a conversation stops, launch options, a program, the live pane, a session
 * kept after its server died, and a row of the older one-pane form.
 */
class SnapshotBytesTest {
    static final Path FIXTURE = Repo.ROOT.resolve("tests/fixtures/snapshot-v4.tsv");
    static final String A = "0b9c5a59-43a5-4f5b-9d0e-7c8f2b4d1e6a", B = "0b9c5a59-ffff-4f5b-9d0e-7c8f2b4d1e6a", C = "7c000000-0000-4000-8000-000000000000";

    static List<SnapshotFormat.Row> sessions() {
        SnapshotFormat.Pane running = new SnapshotFormat.Pane(0, 0, true, "/home/a/proj", A, "/home/a/proj", null, null,
                List.of("--model", "opus"), List.of(), "%1@1764500000");
        SnapshotFormat.Pane killed = new SnapshotFormat.Pane(0, 1, false, "/home/a/tab\there", B, "/home/a/x", "/home/a/.claude-alt",
                SnapshotFormat.KILLED + "claude was killed, its live record is left (noticed 2026-11-24T19:30:00Z)", List.of(), List.of(), "%2@1764500000");
        SnapshotFormat.Pane program = SnapshotFormat.Pane.shell(1, 0, true, "/home/a/new\nline", List.of("vim", "-c", "set nu", "back\\slash"));
        SnapshotFormat.Pane exited = new SnapshotFormat.Pane(2, 3, true, "/", C, "/", null, SnapshotFormat.EXITED + "claude no longer runs in this pane",
                List.of("--append-system-prompt", "a\tb"), List.of(), null);
        SnapshotFormat.Row work = SnapshotFormat.Row.of("work", List.of(
                new SnapshotFormat.Window(0, "main", false, "b25d,200x50,0,0{100x50,0,0,1,99x50,101,0,2}", true, true, List.of(running, killed)),
                new SnapshotFormat.Window(1, "ed\tit\\", true, "", false, false, List.of(program)),
                new SnapshotFormat.Window(2, "not recreated", "", false, false, List.of(exited.withNotRunning(SnapshotFormat.NOT_RECREATED)))));
        SnapshotFormat.Row ended = SnapshotFormat.Row.of("#gone ; $(x)", List.of(new SnapshotFormat.Window(3, "w", "", true, false,
                List.of(new SnapshotFormat.Pane(3, 0, true, "/", C, "/", null, "killed: its tmux server was killed by the OOM killer at 2026-11-24T19:29:58Z (kernel log) (noticed 2026-11-24T19:30:00Z)", List.of(), List.of(), "%9@1764400000"))))).withEnded(new SnapshotFormat.Ended("4242@1764400000@0f0e0d0c-0000-4000-8000-00000000b007",
                Instant.parse("2026-11-24T19:30:00Z"), "the OOM killer at 2026-11-24T19:29:58Z (kernel log)"));
        SnapshotFormat.Row older = new SnapshotFormat.Row("old", "/home/a", A, "/home/a", null, SnapshotFormat.RESTORE_FAILED + "came back as a shell");
        SnapshotFormat.Row plain = new SnapshotFormat.Row("7", "/srv", null, null, null);
        return List.of(work, ended, older, plain);
    }

    static final Tmux.Server SERVER = new Tmux.Server(5151, 1764500000, "0f0e0d0c-0000-4000-8000-00000000b007");

    @Test
    void theSameSessionsGiveTheSameFileAsTheReleaseBefore() throws Exception {
        String golden = Files.readString(FIXTURE, StandardCharsets.UTF_8);
        assertEquals(golden, SnapshotFormat.format(sessions(), SERVER), "byte for byte");
        SnapshotFormat.Parsed read = SnapshotFormat.parse(golden.getBytes(StandardCharsets.UTF_8));
        assertEquals(List.of(), read.problems());
        assertEquals(sessions(), read.rows(), "and it reads back to the same sessions");
        assertEquals(SERVER, read.server());
    }

    /** Writes the fixture from today's code: run once, by hand, when the format changes on purpose (then say so in the commit). */
    public static void main(String[] args) throws Exception {
        Files.writeString(FIXTURE, SnapshotFormat.format(sessions(), SERVER), StandardCharsets.UTF_8);
    }
}
