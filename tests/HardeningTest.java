import base.Accounts;
import base.Exec;
import store.SnapshotFormat;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What a hostile user can do to root's run through the things root touches on her behalf:
 * her tmux socket, and the children root starts as her. Real OS users, as root.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class HardeningTest {
    TestUsers users;

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and act as root over their files; run the tests as root (CI does)");
        users = new TestUsers();
    }

    @AfterAll
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    /**
     * As the user: listen on her own default socket with a backlog of 1, never accept, and fill
     * the backlog herself, so that a blocking connect to it waits forever.
     */
    static final String JAMMED_SOCKET = String.join("\n",
            "use Socket; use Fcntl;",
            "my $path = shift; my $dir = $path; $dir =~ s{/[^/]*$}{}; mkdir $dir, 0700;",
            "socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die $!; bind($s, pack_sockaddr_un($path)) or die $!; listen($s, 1) or die $!;",
            "my @held;",
            "for (1 .. 64) {",
            "  socket(my $c, PF_UNIX, SOCK_STREAM, 0) or die $!; fcntl($c, F_SETFL, O_NONBLOCK) or die $!;",
            "  last unless connect($c, pack_sockaddr_un($path)); push @held, $c;",
            "}",
            "open(my $r, '>', \"$path.ready\") or die $!; close $r;",
            "sleep 600;");

    @Test
    void aSocketThatNeverAcceptsTimesOutInsteadOfHangingTheRun() throws Exception {
        Accounts.Account mallory = users.create();
        Tmux tmux = users.tmux(mallory);
        Path socket = tmux.socket();
        Path ready = Path.of(socket + ".ready");
        List<String> cmd = List.of("setpriv", "--reuid=" + mallory.uid(), "--regid=" + mallory.gid(), "--init-groups", "--",
                "setsid", "perl", "-e", JAMMED_SOCKET, socket.toString());
        Process listener = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            assertTrue(Children.waitFor(() -> Files.exists(ready) || !listener.isAlive(), Duration.ofSeconds(10)) && listener.isAlive(),
                    "the jammed socket is up");
            assertEquals(mallory.uid(), (Integer) Files.getAttribute(socket, "unix:uid"), "her own socket, so the probe does connect");

            long t0 = System.nanoTime();
            Tmux.SocketState state = assertTimeoutPreemptively(Duration.ofSeconds(5), tmux::socketState, "the probe must not hang");
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            assertEquals(Tmux.SocketState.UNANSWERED, state, "a server that does not answer, not a stale socket");
            assertTrue(took.compareTo(Tmux.PROBE_DEADLINE.plusMillis(500)) < 0, "within the deadline: " + took);

            // The listing says so without ever calling tmux (whose own connect would block for the
            // whole tmux timeout, 10 s here).
            t0 = System.nanoTime();
            Tmux.Listing l = assertTimeoutPreemptively(Duration.ofSeconds(5), tmux::listSessions, "the listing must not hang");
            took = Duration.ofNanos(System.nanoTime() - t0);
            assertEquals(Tmux.Status.TIMED_OUT, l.status(), l.toString());
            assertTrue(l.detail().contains("did not accept a connection"), l.detail());
            assertTrue(took.compareTo(Duration.ofSeconds(3)) < 0, "no tmux call waited out its timeout: " + took);
        } finally {
            listener.destroyForcibly().waitFor();
        }
    }

    @Test
    void aSaveOverAJammedSocketKeepsTheLastSnapshotAndSaysTheServerDidNotAnswer() throws Exception {
        Accounts.Account mallory = users.create();
        Tmux tmux = users.tmux(mallory);
        Path socket = tmux.socket();
        Process listener = new ProcessBuilder("setpriv", "--reuid=" + mallory.uid(), "--regid=" + mallory.gid(), "--init-groups", "--",
                "setsid", "perl", "-e", JAMMED_SOCKET, socket.toString())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            assertTrue(Children.waitFor(() -> Files.exists(Path.of(socket + ".ready")), Duration.ofSeconds(10)), "the jammed socket is up");
            Path state = Files.createDirectories(users.dir.resolve("state-" + mallory.name()));
            Files.setPosixFilePermissions(state, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            String last = SnapshotFormat.HEADER + "\nwork\t/home\t-\t-\t-\n";
            Path snap = Files.writeString(state.resolve(mallory.name() + ".tsv"), last);
            Files.setPosixFilePermissions(snap, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            Path map = Files.writeString(users.dir.resolve("map-" + mallory.name()), "m@x=" + mallory.name() + "\n");
            Children.Ran r = Repo.script("t3-save.java", Map.of("T3_USER_MAP", map.toString(), "T3_STATE_DIR", state.toString(),
                    "T3_TMUX_TMPDIR", users.tmuxTmp.toString(), "T3_TMUX_TIMEOUT", "30"));
            assertTrue(r.all().contains(Tmux.Status.TIMED_OUT.words), r.all());
            assertFalse(r.all().contains(Tmux.Status.STALE_SOCKET.words), r.all());
            assertEquals(1, r.exit(), "a server that does not answer is a failure to save: " + r.all());
            assertEquals(last, Files.readString(snap), "the last snapshot is kept");
            assertTrue(r.took().compareTo(Duration.ofSeconds(30)) < 0, "not the tmux timeout: " + r.took());
        } finally {
            listener.destroyForcibly().waitFor();
        }
    }

    /** Fields 4 (ppid), 6 (session) and 7 (tty_nr) of a /proc/<pid>/stat line; parsed from the last ')'. */
    static long[] ppidSessionTty(String stat) {
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).strip().split(" ");
        return new long[] {Long.parseLong(f[1]), Long.parseLong(f[3]), Long.parseLong(f[4])};
    }

    @Test
    void childrenRunAsAUserHaveNoSessionOrTerminalOfOurs() throws Exception {
        Accounts.Account eve = users.create();
        long[] ours = ppidSessionTty(Files.readString(Path.of("/proc/self/stat")));
        long jvm = ProcessHandle.current().pid();

        List<String> cmd = new java.util.ArrayList<>(users.tmux(eve).asUser(false));
        cmd.addAll(List.of("cat", "/proc/self/stat"));
        Exec.Result r = Exec.run(cmd, Duration.ofSeconds(10));
        assertTrue(r.ok(), r.toString());
        long[] tmuxChild = ppidSessionTty(r.out());
        assertNotEquals(ours[1], tmuxChild[1], "Tmux.asUser: a session of its own: " + r.out());
        assertEquals(0, tmuxChild[2], "Tmux.asUser: no controlling terminal: " + r.out());
        assertEquals(jvm, tmuxChild[0], "every wrapper exec'd: no middle process for a timeout to miss: " + r.out());

        long[] testChild = ppidSessionTty(Children.asUser(eve, "cat", "/proc/self/stat"));
        assertNotEquals(ours[1], testChild[1], "Children.asUser: a session of its own");
        assertEquals(0, testChild[2], "Children.asUser: no controlling terminal");

        // A timeout still kills the user's process itself, not a wrapper around it.
        cmd = new java.util.ArrayList<>(users.tmux(eve).asUser(false));
        cmd.addAll(List.of("sleep", "300"));
        Exec.Result slow = Exec.run(cmd, Duration.ofSeconds(1));
        assertTrue(slow.timedOut());
        assertTrue(Children.waitFor(() -> !Exec.run(List.of("pgrep", "-u", Integer.toString(eve.uid()), "sleep"), Duration.ofSeconds(5)).ok(),
                Duration.ofSeconds(5)), "no sleep of the user's outlives the timeout");
    }
}
