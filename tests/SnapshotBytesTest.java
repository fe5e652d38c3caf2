import store.SavedSession;
import store.SavedPane;
import store.SavedWindow;
import store.Ended;
import store.NotRunning;
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
 * wrote tests/fixtures/snapshot-v5.tsv, so a change to the model or the codec that would rewrite
 * every user's snapshot (or misread one) cannot pass unnoticed. The fixture holds every kind of
 * row and field: windows with each flag, hostile names, panes with and without a conversation, a
 * reason for each way a conversation stops, launch options, a program, the live pane, a session
 * kept after its server died, a row of the older one-pane form, and conversations of other
 * assistants. The file the release before wrote (v4, before assistants were named) still reads,
 * to the same sessions, each conversation claude's.
 */
class SnapshotBytesTest {
    static final Path FIXTURE = Repo.ROOT.resolve("tests/fixtures/snapshot-v5.tsv");
    static final Path BEFORE_ASSISTANTS = Repo.ROOT.resolve("tests/fixtures/snapshot-v4.tsv");
    static final String A = "0b9c5a59-43a5-4f5b-9d0e-7c8f2b4d1e6a", B = "0b9c5a59-ffff-4f5b-9d0e-7c8f2b4d1e6a", C = "7c000000-0000-4000-8000-000000000000";

    static List<SavedSession> sessions() {
        SavedPane running = SavedPane.at(0, 0).active(true).cwd("/home/a/proj").conversation(A, "/home/a/proj", null)
                .options(List.of("--model", "opus")).tmuxPane("%1@1764500000");
        SavedPane killed = SavedPane.at(0, 1).cwd("/home/a/tab\there").conversation(B, "/home/a/x", "/home/a/.claude-alt")
                .withNotRunning(NotRunning.killed("claude was killed, its live record is left (noticed 2026-11-24T19:30:00Z)")).tmuxPane("%2@1764500000");
        SavedPane program = SavedPane.shell(1, 0, true, "/home/a/new\nline", List.of("vim", "-c", "set nu", "back\\slash"));
        SavedPane exited = SavedPane.at(2, 3).active(true).cwd("/").conversation(C, "/", null)
                .withNotRunning(NotRunning.exited("claude no longer runs in this pane")).options(List.of("--append-system-prompt", "a\tb"));
        SavedSession work = SavedSession.of("work", List.of(
                new SavedWindow(0, "main", false, "b25d,200x50,0,0{100x50,0,0,1,99x50,101,0,2}", true, true, List.of(running, killed)),
                new SavedWindow(1, "ed\tit\\", true, "", false, false, List.of(program)),
                new SavedWindow(2, "not recreated", "", false, false, List.of(exited.withNotRunning(NotRunning.NOT_RECREATED)))));
        SavedSession ended = SavedSession.of("#gone ; $(x)", List.of(new SavedWindow(3, "w", "", true, false,
                List.of(SavedPane.at(3, 0).active(true).cwd("/").conversation(C, "/", null)
                .withNotRunning(NotRunning.of("killed: its tmux server was killed by the OOM killer at 2026-11-24T19:29:58Z (kernel log) (noticed 2026-11-24T19:30:00Z)"))
                .tmuxPane("%9@1764400000"))))).withEnded(new Ended("4242@1764400000@0f0e0d0c-0000-4000-8000-00000000b007",
                Instant.parse("2026-11-24T19:30:00Z"), "the OOM killer at 2026-11-24T19:29:58Z (kernel log)"));
        SavedSession older = new SavedSession("old", "/home/a", A, "/home/a", null, NotRunning.restoreFailed("came back as a shell"));
        SavedSession plain = new SavedSession("7", "/srv", null, null, null);
        return List.of(work, ended, older, plain);
    }

    /** What v5 adds: panes of assistants other than claude, one with an id that is no UUID and a home of its own. */
    static List<SavedSession> sessionsV5() {
        SavedPane codex = SavedPane.at(0, 0).active(true).cwd("/home/a/api").conversation(C, "/home/a/api", null).assistant("codex").tmuxPane("%3@1764500000");
        SavedPane opencode = SavedPane.at(0, 1).cwd("/home/a/web").conversation("ses_3f2a9c1e0ffeABCDEFghijklmn", "/home/a/web", "/home/a/.oc").assistant("opencode")
                .withNotRunning(NotRunning.exited("opencode no longer runs in this pane")).tmuxPane("%4@1764500000");
        List<SavedSession> all = new java.util.ArrayList<>(sessions());
        all.add(SavedSession.of("mixed", List.of(new SavedWindow(0, "two", "", true, false, List.of(codex, opencode)))));
        return all;
    }

    static final Tmux.Server SERVER = new Tmux.Server(5151, 1764500000, "0f0e0d0c-0000-4000-8000-00000000b007");

    @Test
    void theSameSessionsGiveTheSameFileAsTheReleaseBefore() throws Exception {
        String golden = Files.readString(FIXTURE, StandardCharsets.UTF_8);
        assertEquals(golden, SnapshotFormat.format(sessionsV5(), SERVER), "byte for byte");
        SnapshotFormat.Parsed read = SnapshotFormat.parse(golden.getBytes(StandardCharsets.UTF_8));
        assertEquals(List.of(), read.problems());
        assertEquals(sessionsV5(), read.rows(), "and it reads back to the same sessions");
        assertEquals(SERVER, read.server());
    }

    @Test
    void aFileOfTheReleaseBeforeAssistantsReadsAsClaudes() throws Exception {
        SnapshotFormat.Parsed read = SnapshotFormat.parse(Files.readAllBytes(BEFORE_ASSISTANTS));
        assertEquals(List.of(), read.problems());
        assertEquals(sessions(), read.rows(), "the same sessions");
        assertTrue(read.rows().stream().flatMap(r -> r.conversations().stream()).allMatch(p -> p.assistant().equals("claude")), read.rows().toString());
        assertEquals(5, read.rows().stream().mapToLong(r -> r.conversations().size()).sum(), "every conversation read");
    }

    /** Writes the fixture from today's code: run once, by hand, when the format changes on purpose (then say so in the commit). */
    public static void main(String[] args) throws Exception {
        Files.writeString(FIXTURE, SnapshotFormat.format(sessionsV5(), SERVER), StandardCharsets.UTF_8);
    }
}
