import base.Accounts;
import base.Exec;
import base.Procfs;
import store.Roster;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real tmux server on a private socket, run as the current user. */
class TmuxTest {
    @TempDir Path tmp;
    Tmux tmux;

    @BeforeEach
    void setUp() {
        tmux = new Tmux(Accounts.byUid(Accounts.currentUid()).orElseThrow(), tmp, Duration.ofSeconds(5));
    }

    @AfterEach
    void tearDown() {
        tmux.run("kill-server");
    }

    @Test
    void hostileNamesAndPathsSurviveAListAndARecreate() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("dir with\ttab\\and ü #h #{pid}\nP $9 /etc"));
        // Printable names come back exactly; tmux itself escapes control characters and backslashes
        // on creation (3.3a: a tab becomes \t), and recreating from the listed name gives that name again.
        List<String> printable = List.of("ünï ✓", "a'b \"c\" $(x) `y` ;|&", "-dash", "#hash", "x#{pid}y", "sp ace");
        List<String> escaped = List.of("tab\there", "new\nline", "back\\slash\\t", "ctl\u0001\u007f");
        for (String n : printable) assertTrue(tmux.newSession(n, dir, Map.of(), List.of("sleep", "60")).ok(), n);
        for (String n : escaped) assertTrue(tmux.newSession(n, dir, Map.of(), List.of("sleep", "60")).ok(), n);
        List<String> first = names();
        assertTrue(first.containsAll(printable), first.toString());
        assertEquals(printable.size() + escaped.size(), first.size());
        assertTrue(first.stream().noneMatch(n -> n.chars().anyMatch(c -> c < 32)), "no control character in a listed name: " + first);

        Procfs procs = Procfs.read();
        for (Tmux.Session s : tmux.listSessions().sessions()) {
            assertEquals(dir, procs.currentPath(s.panePid()).orElseThrow(), s.name() + ": cwd read exactly, newline and all");
            assertTrue(tmux.run("has-session", "-t", "=" + s.name()).ok(), "the listed name is tmux's exact name: " + s.name());
        }

        for (String n : first) {
            assertTrue(tmux.run("kill-session", "-t", "=" + n).ok(), n);
            Tmux.Outcome again = tmux.newSessions(List.of(new Tmux.NewSession(n, dir, Map.of(), List.of("sleep", "60")))).get(0);
            assertTrue(again.ok(), n + ": " + again.error());
            assertEquals(n, again.created().name(), "recreated under the very same name");
            assertEquals(tmux.listSessions().server(), again.created().server(), "on the server a listing names");
        }
        assertEquals(new java.util.TreeSet<>(first), new java.util.TreeSet<>(names()));
    }

    List<String> names() {
        return tmux.listSessions().sessions().stream().map(Tmux.Session::name).toList();
    }

    /**
     * tmux refuses a call over 16 KiB ("command too long"): thirty sessions whose panes each run a
     * long command (a restored pane's script and conversation) are all made, in as many calls as that takes.
     */
    @Test
    void manySessionsWithLongCommandsAreAllMade() throws Exception {
        List<Tmux.NewSession> wanted = new java.util.ArrayList<>();
        for (int i = 0; i < 30; i++) wanted.add(new Tmux.NewSession("long" + i, tmp, Map.of(), List.of("sh", "-c", "sleep 60", "x".repeat(1000))));
        List<Tmux.Outcome> made = tmux.newSessions(wanted);
        assertEquals(List.of(), made.stream().filter(o -> !o.ok()).map(o -> o.wanted().name() + ": " + o.error()).toList());
        assertEquals(30, tmux.listSessions().sessions().size());
    }

    @Test
    void anArgumentEndingInASemicolonIsData() throws Exception {
        // tmux would split "a;" into "a" and a command separator, even within one command.
        for (String n : List.of("a;", ";", "b\\;")) assertTrue(tmux.newSession(n, tmp, Map.of(), List.of("sleep", "60")).ok(), n);
        List<String> names = tmux.listSessions().sessions().stream().map(Tmux.Session::name).toList();
        assertTrue(names.contains("a;") && names.contains(";"), names.toString());
        Exec.Result semi = tmux.newSession("c", tmp, Map.of(), List.of("sh", "-c", "echo x > " + tmp.resolve("ran") + ";"));
        assertTrue(semi.ok(), semi.err());
        assertTrue(Children.waitFor(() -> Files.exists(tmp.resolve("ran")), Duration.ofSeconds(5)), "the pane ran the argv, ';' and all");
    }

    @Test
    void saysWhyThereIsNothingToList() throws Exception {
        assertEquals(Tmux.Status.NO_SERVER, tmux.listSessions().status());
        // A server that stays up with no session (exit-empty off) answers with zero sessions.
        assertTrue(tmux.runAll(List.of("start-server"), List.of("set-option", "-s", "exit-empty", "off")).ok());
        assertTrue(Children.waitFor(() -> tmux.socketState() == Tmux.SocketState.LIVE, Duration.ofSeconds(5)));
        assertEquals(Tmux.Status.NO_SESSIONS, tmux.listSessions().status());
        assertTrue(tmux.newSession("x", tmp, Map.of(), List.of("sleep", "60")).ok());
        int server = Integer.parseInt(tmux.run("display-message", "-p", "#{pid}").out().strip());
        Children.check("kill", "-KILL", Integer.toString(server));
        assertTrue(Children.waitFor(() -> tmux.socketState() == Tmux.SocketState.STALE, Duration.ofSeconds(5)));
        assertEquals(Tmux.Status.STALE_SOCKET, tmux.listSessions().status());
        assertTrue(tmux.newSession("y", tmp, Map.of(), List.of("sleep", "60")).ok(), "a new server replaces the stale socket");
        assertEquals(List.of("y"), tmux.listSessions().sessions().stream().map(Tmux.Session::name).toList());
    }

    @Test
    void aSymlinkInPlaceOfTheSocketIsLeftAlone(@TempDir Path other) throws Exception {
        // Another server's live socket, linked where this user's socket should be.
        Tmux elsewhere = new Tmux(Accounts.byUid(Accounts.currentUid()).orElseThrow(), other, Duration.ofSeconds(5));
        assertTrue(elsewhere.newSession("target", other, Map.of(), List.of("sleep", "60")).ok());
        try {
            Files.createDirectories(tmux.socket().getParent());
            Files.createSymbolicLink(tmux.socket(), elsewhere.socket());
            assertEquals(Tmux.SocketState.SUSPECT, tmux.socketState());
            Tmux.Listing l = tmux.listSessions();
            assertEquals(Tmux.Status.FAILED, l.status());
            assertTrue(l.detail().contains("not a socket owned by"), l.detail());
            assertEquals(List.of(), Roster.discoverLiveServers(tmp), "discovery ignores it too");
        } finally {
            elsewhere.run("kill-server");
        }
    }
}
