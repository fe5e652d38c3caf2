import store.SavedSession;
import base.Accounts;
import base.Exec;
import base.Settings;
import store.SnapshotFormat;
import store.StateStore;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * What README promises and no other test shows: every script's --help, exit 2 on a bad setting,
 * life without a user map (save: every user with a live server; restore: every user with a
 * snapshot), and reconcile refusing a non-root caller. The scripts run as an operator runs them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PromisesTest {
    TestUsers users;

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        users = new TestUsers();
    }

    @AfterAll
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    /** Settings that keep a run away from this host's real state, map and sockets. */
    Map<String, String> isolated(String tag) {
        return new HashMap<>(Map.of("T3_USER_MAP", users.dir.resolve("no-such-map-" + tag).toString(),
                "T3_STATE_DIR", users.dir.resolve("state-" + tag).toString(),
                "T3_TMUX_TMPDIR", users.tmuxTmp.toString(), "T3_CLAUDE", users.bin.resolve("claude").toString()));
    }

    /** The menu is one person's (its items run in her tmux, as her): root is told so, and a client that is not a terminal's name is refused. */
    @Test
    void theMenuIsForOnePersonAndTakesOnlyAClientTmuxNamed() {
        Children.Ran root = Repo.script("t3-restore.java", isolated("menu"), "--user", "root", "--menu", "sessions", "--tmux-client", "/dev/pts/0");
        assertEquals(2, root.exit(), root.all());
        assertTrue(root.all().contains("for one person's own tmux"), root.all());
        Children.Ran client = Repo.script("t3-restore.java", isolated("menu"), "--menu", "sessions", "--tmux-client", "/dev/pts/0;kill-server");
        assertEquals(2, client.exit(), client.all());
        assertTrue(client.all().contains("--tmux-client takes a client as tmux names it"), client.all());
    }

    @Test
    void everyScriptHasHelpNamingItsOptionsAndSettings() {
        Map<String, List<String>> options = Map.of(
                "t3-save.java", List.of("--user", "--dry-run", "--tmux-client"),
                "t3-restore.java", List.of("--user", "--list", "--snapshot", "--session", "--find", "--forget", "--heal", "--dry-run", "--json",
                        "--menu", "--pick", "--tmux-client"),
                "t3-reconcile.java", List.of("--check", "--dry-run", "--checkout", "--root", "--no-build"));
        for (var e : options.entrySet()) {
            Children.Ran r = Repo.script(e.getKey(), isolated("help"), "--help");
            assertEquals(0, r.exit(), e.getKey() + " --help: " + r.all());
            List<String> want = new ArrayList<>(e.getValue());
            want.addAll(List.of("--help", "Exit status"));
            Settings.KNOBS.forEach(k -> want.add(k.name()));
            for (String w : want) assertTrue(r.out().contains(w), e.getKey() + " --help names " + w + ":\n" + r.out());
            assertFalse(r.err().contains("Could not format"), "help text renders whole: " + r.err());
        }
    }

    @Test
    void aRestoreWithNobodyToRestoreIsDoneNotFailed() {
        // A fresh machine's boot: no snapshot anywhere yet (it crashed with an empty pool of users).
        for (String[] args : List.of(new String[0], new String[] {"--dry-run"}, new String[] {"--heal"})) {
            Children.Ran r = Repo.script("t3-restore.java", isolated("nobody"), args);
            assertEquals(0, r.exit(), String.join(" ", args) + ": " + r.all());
        }
        assertTrue(Repo.script("t3-restore.java", isolated("nobody")).all().contains("nobody to restore"));
    }

    @Test
    void aBadSettingExitsTwoNamingIt() {
        for (String script : List.of("t3-save.java", "t3-restore.java")) {
            for (Map.Entry<String, String> bad : List.of(Map.entry("T3_TMUX_TIMEOUT", "abc"), Map.entry("T3_KEEP", "0"))) {
                Map<String, String> env = isolated("bad");
                env.put(bad.getKey(), bad.getValue());
                Children.Ran r = Repo.script(script, env);
                assertEquals(2, r.exit(), script + " with " + bad + ": " + r.all());
                assertTrue(r.all().contains(bad.getKey()) && r.all().contains("'" + bad.getValue() + "'"), "the log names the setting: " + r.all());
            }
        }
        assertFalse(Files.exists(Path.of(isolated("bad").get("T3_STATE_DIR"))), "nothing was written");
    }

    @Test
    void withoutAUserMapSaveTakesEveryLiveServerAndRestoreEverySnapshot() throws Exception {
        Accounts.Account erin = users.create(), frank = users.create(), gus = users.create();
        users.newSession(erin, "e1", erin.home(), null);
        users.newSession(frank, "f1", frank.home(), null);
        // gus has no server; his socket dir is there (he ran tmux once) but nobody listens.
        Children.asUser(gus, "mkdir", "-m", "700", users.tmuxTmp.resolve("tmux-" + gus.uid()).toString());
        Map<String, String> env = isolated("nomap");
        Path stateDir = Path.of(env.get("T3_STATE_DIR"));

        Children.Ran s = Repo.script("t3-save.java", env);
        assertEquals(0, s.exit(), s.all());
        StateStore store = new StateStore(stateDir);
        assertEquals(Set.of(erin.name(), frank.name()), Set.copyOf(store.users()), "every user with a live server, no one else: " + s.all());
        assertEquals(List.of("e1"), store.history(erin.name()).readNewest().rows().stream().map(SavedSession::session).toList());

        // gus gets a snapshot by other means (an earlier save with a map, say); then everyone crashes.
        store.history(gus.name()).commit(List.of(new SavedSession("g1", gus.home().toString(), null, null, null)), Instant.now());
        for (Accounts.Account a : List.of(erin, frank)) {
            for (int i = 0; i < 20 && Exec.run(List.of("pkill", "-KILL", "-u", Integer.toString(a.uid())), Duration.ofSeconds(5)).exit() == 0; i++) Thread.sleep(100);
        }
        Children.Ran r = Repo.script("t3-restore.java", env);
        assertEquals(0, r.exit(), r.all());
        Map<String, Set<String>> live = List.of(erin, frank, gus).stream().collect(Collectors.toMap(Accounts.Account::name,
                a -> users.tmux(a).listSessions().sessions().stream().map(Tmux.Session::name).collect(Collectors.toSet())));
        assertEquals(Map.of(erin.name(), Set.of("e1"), frank.name(), Set.of("f1"), gus.name(), Set.of("g1")), live,
                "every user with a snapshot is restored, with no server running before: " + r.all());
    }

    /**
     * One person's reconcile (single-user mode: SingleUserTest installs hers) refuses a checkout
     * someone else can change: her units would run what that person writes.
     */
    @Test
    void reconcileAsANonRootUserRefusesACheckoutSomeoneElseOwns() throws Exception {
        Accounts.Account hal = users.create(), eve = users.create();
        // The build is root's (JBang's cache under /root): copy its classpath where hal can read it.
        Children.Ran cp = Children.run(List.of(Repo.ROOT.resolve("jbang").toString(), "--quiet", "info", "classpath",
                Repo.ROOT.resolve("t3-reconcile.java").toString()), Map.of(), Repo.ROOT, Duration.ofMinutes(5));
        assertEquals(0, cp.exit(), cp.all());
        String classpath = cp.out().strip().lines().reduce((a, b) -> b).orElseThrow();
        Path jars = Files.createDirectory(users.dir.resolve("reconcile-cp"));
        List<String> copied = new ArrayList<>();
        for (String entry : classpath.split(":")) {
            Path to = jars.resolve(copied.size() + "-" + Path.of(entry).getFileName());
            Files.copy(Path.of(entry), to);
            Children.check("chmod", "a+r", to.toString());
            copied.add(to.toString());
        }
        Children.check("chmod", "a+rx", jars.toString());
        // A checkout of eve's, which hal can read: hal's units would run whatever eve writes there.
        Path checkout = Files.createDirectory(users.dir.resolve("checkout"));
        for (String f : List.of("jbang", "t3-save.java", "t3-restore.java", "t3-reconcile.java", "lib", "units")) {
            Children.check("cp", "-r", Repo.ROOT.resolve(f).toString(), checkout.toString());
        }
        Children.check("chown", "-R", eve.uid() + ":" + eve.gid(), checkout.toString());
        Children.check("chmod", "-R", "a+rX,go-w", checkout.toString());
        List<String> cmd = List.of("setsid", "setpriv", "--reuid=" + hal.uid(), "--regid=" + hal.gid(), "--init-groups", "--",
                "env", "-i", "HOME=" + hal.home(), "PATH=/usr/bin:/bin", "LANG=C.UTF-8", "T3_CHECKOUT=" + checkout,
                "java", "-cp", String.join(":", copied), "T3Reconcile", "--no-build");
        Children.Ran r = Children.run(cmd, Map.of(), Path.of("/"), Duration.ofMinutes(2));
        assertEquals(2, r.exit(), r.all());
        assertTrue(r.all().contains("owned by uid " + eve.uid()) && r.all().contains("who can change what your units run"), r.all());
        assertFalse(Files.exists(hal.home().resolve(".config/systemd/user/t3-tmux-save.service")), "nothing installed");
    }
}
