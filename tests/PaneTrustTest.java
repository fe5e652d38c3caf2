import store.SavedSession;
import base.Accounts;
import claude.Conversations;
import save.Inventory;
import base.Procfs;
import store.SnapshotFormat;
import store.StateStore;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Issue 8, item 4: pane pids come from the user's own tmux server, which she can replace. Root
 * reads a pane pid's cwd and walks its descendants only when the process is hers. Real OS users,
 * real processes, real /proc, as root.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PaneTrustTest {
    TestUsers users;
    Accounts.Account alice;
    final List<Process> started = new ArrayList<>();

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and own processes of two uids; run the tests as root (CI does)");
        users = new TestUsers();
        alice = users.create();
    }

    @AfterAll
    void tearDown() throws Exception {
        for (Process p : started) p.destroyForcibly().waitFor();
        if (users != null) users.close();
    }

    Process start(Path dir, String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        started.add(p);
        return p;
    }

    List<String> asAlice(String... cmd) {
        List<String> full = new ArrayList<>(List.of("setpriv", "--reuid=" + alice.uid(), "--regid=" + alice.gid(), "--init-groups", "--",
                "env", "-i", "HOME=" + alice.home(), "PATH=/usr/bin:/bin"));
        full.addAll(List.of(cmd));
        return full;
    }

    @Test
    void aPanePidOfAnotherUserIsNotReadNorWalked() throws Exception {
        // Root's own process, in a directory only root may know about.
        Path secret = Files.createDirectory(users.dir.resolve("root-only"));
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rwx------"));
        Process rootSleep = start(secret, "sleep", "300");
        // Alice's own process, in her home.
        Process hers = start(Path.of("/"), asAlice("sh", "-c", "cd && exec sleep 300").toArray(String[]::new));
        // A root process with alice's claude below it: walking its tree would find her conversation.
        Path proj = alice.home().resolve("proj");
        Children.asUser(alice, "mkdir", "-p", proj.toString());
        List<String> claude = asAlice(users.claude());
        Process rootParent = start(proj, "sh", "-c", String.join(" ", claude) + "; true");

        assertTrue(Children.waitFor(() -> {
            Procfs p = Procfs.read();
            return p.selfAndDescendants((int) rootParent.pid()).stream().anyMatch(Conversations::isClaude)
                    && p.cwd((int) hers.pid()).map(alice.home()::equals).orElse(false);
        }, Duration.ofSeconds(15)), "the processes are up");
        Procfs procs = Procfs.read();
        int claudePid = procs.selfAndDescendants((int) rootParent.pid()).stream().filter(Conversations::isClaude).findFirst().orElseThrow().pid();
        assertTrue(Children.waitFor(() -> Files.exists(alice.home().resolve(".claude/sessions/" + claudePid + ".json")), Duration.ofSeconds(10)));
        assertEquals(0, procs.get((int) rootSleep.pid()).orElseThrow().uid(), "root's sleep is root's");
        assertEquals(secret.toRealPath(), procs.cwd((int) rootSleep.pid()).orElseThrow(), "root could read its cwd: the test can fail");

        // What a lying server says: these pids are alice's panes.
        List<Tmux.Session> told = List.of(
                new Tmux.Session("$0", "mine", (int) hers.pid()),
                new Tmux.Session("$1", "roots", (int) rootSleep.pid()),
                new Tmux.Session("$2", "above-her-claude", (int) rootParent.pid()),
                new Tmux.Session("$3", "her-claude", claudePid),
                new Tmux.Session("$4", "init", 1));
        List<Tmux.LivePane> panes = told.stream()
                .map(s -> Tmux.LivePane.made(s.id(), 0, "%" + s.id().substring(1), s.panePid())).toList();
        Tmux.Listing listing = Inventory.trusted(alice, new Tmux.Listing(Tmux.Status.OK, told, "", panes), procs);
        List<Tmux.Session> trusted = listing.sessions();
        Map<String, SavedSession> rows = Inventory.rows(alice, listing, procs, List.of("sleep")).stream()
                .collect(Collectors.toMap(SavedSession::session, r -> r));

        assertEquals(alice.home().toString(), rows.get("mine").cwd(), "her own pane: its cwd");
        assertEquals("", rows.get("roots").cwd(), "root's process: its cwd is not read");
        assertFalse(rows.get("roots").hasConversation());
        assertEquals(List.of(), rows.get("roots").panes().get(0).program(), "nor its argv, though sleep is a program to start again");
        assertEquals("", rows.get("above-her-claude").cwd());
        assertFalse(rows.get("above-her-claude").hasConversation(), "a foreign pid's tree is not walked");
        assertTrue(rows.get("her-claude").hasConversation(), "her claude as the pane itself: found (the setup is sound)");
        assertEquals(proj.toString(), rows.get("her-claude").cwd());
        assertEquals("", rows.get("init").cwd());
        assertFalse(rows.get("init").hasConversation(), "pid 1's tree holds her claude too; not walked");
        Map<String, Integer> pids = trusted.stream().collect(Collectors.toMap(Tmux.Session::name, Tmux.Session::panePid));
        assertEquals(Inventory.NO_PROCESS, pids.get("roots"), "the sessions a restore sees do not carry the foreign pid either");
        assertEquals((int) hers.pid(), pids.get("mine"));

        assertEquals(procs.cwd((int) hers.pid()), procs.currentPath((int) hers.pid(), alice.uid()));
        assertEquals(java.util.Optional.empty(), procs.currentPath((int) rootSleep.pid(), alice.uid()));
    }

    @Test
    void endToEndASetuidPaneIsSavedWithoutItsCwd() throws Exception {
        // Real tmux, honest about a pane whose process is no longer hers: she exec'd a setuid
        // program (passwd waits at its prompt as root). Her own tmux build could name any pid.
        Accounts.Account bob = users.create();
        Path dir = bob.home().resolve("somewhere");
        Children.asUser(bob, "mkdir", "-p", dir.toString());
        users.newSession(bob, "setuid", dir, "exec /usr/bin/passwd");
        users.newSession(bob, "plain", dir, null);
        assertTrue(Children.waitFor(() -> users.tmux(bob).listSessions().sessions().stream()
                .filter(s -> s.name().equals("setuid")).anyMatch(s -> Procfs.read().owner(s.panePid()).orElse(-1) == 0),
                Duration.ofSeconds(10)), "passwd runs as root in bob's pane");

        Path state = users.dir.resolve("state-" + bob.name());
        Path map = Files.writeString(users.dir.resolve("map-" + bob.name()), "b=" + bob.name() + "\n");
        Children.Ran r = Repo.script("t3-save.java", Map.of("T3_USER_MAP", map.toString(), "T3_STATE_DIR", state.toString(),
                "T3_TMUX_TMPDIR", users.tmuxTmp.toString()));
        assertEquals(0, r.exit(), r.all());
        Map<String, SavedSession> saved = new StateStore(state).history(bob.name()).readNewest().rows().stream()
                .collect(Collectors.toMap(SavedSession::session, x -> x));
        assertEquals("", saved.get("setuid").cwd(), "a root process's cwd is not read: " + saved);
        assertEquals(dir.toString(), saved.get("plain").cwd(), "her own pane's is");
        assertTrue(r.all().contains("not " + bob.name() + "'s processes") && r.all().contains("'setuid'"), "the log says so once: " + r.all());
    }
}
