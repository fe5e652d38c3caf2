import base.Accounts;
import metrics.Metrics;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The metrics each run writes for node_exporter's textfile collector (T3_METRICS_DIR), from real
 * runs of the scripts over a throwaway user's real tmux: promtool (Debian's) accepts every file,
 * the figures are the ones the log says, a file is only ever replaced whole, and the alert rules
 * pass promtool's own tests and name only metrics the runs write.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class MetricsTest {
    TestUsers users;
    Accounts.Account alice, bob;
    Path state, metrics, promtool;
    Map<String, String> env = new HashMap<>();
    final Set<String> written = new TreeSet<>();

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        Promtool.Install p = Promtool.get();
        assumeTrue(p.whyNot() == null, "no promtool: " + p.whyNot());
        promtool = p.bin();
        users = new TestUsers();
        alice = users.create();
        state = users.dir.resolve("state");
        metrics = Files.createDirectory(users.dir.resolve("metrics"));
        bob = users.create(); // in the roster, without a tmux server
        env.putAll(users.operatorEnv(state, "a=" + alice.name() + "\nb=" + bob.name() + "\n"));
        env.put("T3_METRICS_DIR", metrics.toString());
        Path proj = alice.home().resolve("proj");
        Children.asUser(alice, "mkdir", "-p", proj.toString());
        users.newSession(alice, "work", proj, users.claude());
        users.newSession(alice, "shell", alice.home(), null);
        assertTrue(Children.waitFor(() -> Files.exists(alice.home().resolve(".claude/sessions")), Duration.ofSeconds(15)));
        Thread.sleep(500);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    /** The samples of a file: "name{labels}" to value, after promtool has checked it. */
    Map<String, Double> read(String run) throws Exception {
        Path f = Metrics.file(metrics, run);
        assertTrue(Files.isRegularFile(f), run + " wrote " + f);
        Children.Ran check = Children.run(List.of("sh", "-c", "\"$0\" check metrics < \"$1\"", promtool.toString(), f.toString()), Map.of(), users.dir,
                Duration.ofSeconds(30));
        assertEquals(0, check.exit(), "promtool check metrics " + f + ": " + check.all() + "\n" + Files.readString(f));
        Map<String, Double> out = new HashMap<>();
        Pattern sample = Pattern.compile("^([a-zA-Z0-9_:]+)(\\{[^}]*\\})? (\\S+)$");
        for (String line : Files.readAllLines(f)) {
            Matcher m = sample.matcher(line);
            if (!m.matches()) continue;
            written.add(m.group(1));
            out.put(m.group(1) + (m.group(2) == null ? "" : m.group(2)), Double.parseDouble(m.group(3)));
        }
        return out;
    }

    String u() { return "{user=\"" + alice.name() + "\"}"; }

    /** t3-reconcile over this checkout, with the test's settings, without building. */
    Children.Ran reconcile(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Repo.ROOT.resolve("jbang").toString(), "--quiet", Repo.ROOT.resolve("t3-reconcile.java").toString(),
                "--no-build", "--checkout", Repo.ROOT.toString()));
        cmd.addAll(List.of(args));
        return Children.run(cmd, env, Repo.ROOT, Duration.ofMinutes(5));
    }

    @Test
    @Order(1)
    void aSaveSaysWhatTheLogSays() throws Exception {
        Instant before = Instant.now().minusSeconds(1);
        Children.Ran r = Repo.script("t3-save.java", env);
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.all().contains("saved 2 sessions, 1 with a conversation"), r.all());
        Map<String, Double> m = read("save");
        assertEquals(2.0, m.get("t3_tmux_sessions" + u()), m.toString());
        assertEquals(1.0, m.get("t3_tmux_conversations{assistant=\"claude\",user=\"" + alice.name() + "\"}"), m.toString());
        assertEquals(1.0, m.get("t3_tmux_snapshots" + u()));
        assertEquals(0.0, m.get("t3_tmux_rows_owed" + u()));
        assertEquals(1.0, m.get("t3_tmux_save_succeeded" + u()));
        assertEquals(1.0, m.get("t3_tmux_kept_conversation_files" + u()), "its transcript is kept");
        double last = m.get("t3_tmux_save_last_success_timestamp_seconds" + u());
        assertTrue(last >= before.getEpochSecond() && last <= Instant.now().toEpochMilli() / 1000.0, "now: " + last);
        assertEquals(0.0, m.get("t3_tmux_run_exit_status{run=\"save\"}"));
        String b = "{user=\"" + bob.name() + "\"}";
        assertEquals(1.0, m.get("t3_tmux_save_succeeded" + b), "a user without a tmux server: nothing to save is a save that succeeded");
        assertTrue(m.get("t3_tmux_save_last_success_timestamp_seconds" + b) >= before.getEpochSecond(), "so no alert says her saves stopped");
        assertEquals(0.0, m.get("t3_tmux_sessions" + b));
        assertEquals("rw-r--r--", PosixFilePermissions.toString(Files.getPosixFilePermissions(Metrics.file(metrics, "save"))), "node_exporter reads it as its own user");
    }

    @Test
    @Order(2)
    void aFileIsOnlyEverReplacedWholeAndAFailedSaveKeepsTheTimeOfTheLastGoodOne() throws Exception {
        Path f = Metrics.file(metrics, "save");
        double first = read("save").get("t3_tmux_save_last_success_timestamp_seconds" + u());
        Thread.sleep(1100);
        Children.Ran same = Repo.script("t3-save.java", env);
        assertTrue(same.all().contains("unchanged: nothing written"), same.all());
        double last = read("save").get("t3_tmux_save_last_success_timestamp_seconds" + u());
        assertTrue(last >= first + 1, "a save that wrote nothing succeeded all the same: " + first + " then " + last);
        Object inode = Files.getAttribute(f, "unix:ino");
        Thread.sleep(1100);
        // Her server stops answering: her save fails (her last snapshot kept), and says so.
        int server = users.serverPid(alice);
        Children.check("kill", "-STOP", String.valueOf(server));
        Children.Ran r;
        try {
            Map<String, String> slow = new HashMap<>(env);
            slow.put("T3_TMUX_TIMEOUT", "1");
            r = Repo.script("t3-save.java", slow);
        } finally {
            Children.check("kill", "-CONT", String.valueOf(server));
        }
        assertEquals(1, r.exit(), r.all());
        Map<String, Double> m = read("save");
        assertEquals(0.0, m.get("t3_tmux_save_succeeded" + u()), m.toString());
        assertEquals(last, m.get("t3_tmux_save_last_success_timestamp_seconds" + u()), "the time of her last good save, carried on");
        assertEquals(1.0, m.get("t3_tmux_run_exit_status{run=\"save\"}"));
        assertNotEquals(inode, Files.getAttribute(f, "unix:ino"), "a new file renamed over the old: a reader holding the old one reads it whole");
        try (var left = Files.list(metrics)) {
            assertEquals(List.of(), left.filter(p -> !p.getFileName().toString().endsWith(".prom")).toList(), "no temporary file left");
        }
    }

    @Test
    @Order(3)
    void healAndARestoreSayWhatTheyDid() throws Exception {
        Children.Ran h = Repo.script("t3-restore.java", env, "--heal");
        assertEquals(0, h.exit(), h.all());
        Map<String, Double> heal = read("heal");
        assertEquals(0.0, heal.get("t3_tmux_heal_healed_total" + u()), heal.toString());
        assertEquals(0.0, heal.get("t3_tmux_heal_gave_up_total" + u()));

        // A claude killed in its pane (as the OOM killer does) is healed, and counted.
        Path proj = alice.home().resolve("proj");
        users.newSession(alice, "healed", proj, null);
        users.type(alice, "healed", users.claude());
        assertTrue(Children.waitFor(() -> users.claudeIn(alice, "healed").isPresent(), Duration.ofSeconds(15)), "claude runs in healed");
        assertEquals(0, Repo.script("t3-save.java", env).exit());
        users.killClaude(alice, "healed");
        Children.Ran healed = Repo.script("t3-restore.java", env, "--heal");
        assertEquals(0, healed.exit(), healed.all());
        assertTrue(healed.all().contains("healed conversation"), healed.all());
        heal = read("heal");
        assertEquals(1.0, heal.get("t3_tmux_heal_healed_total" + u()), healed.all() + "\n" + heal);
        assertEquals(0.0, heal.get("t3_tmux_heal_gave_up_total" + u()));
        assertTrue(Children.waitFor(() -> users.claudeIn(alice, "healed").isPresent(), Duration.ofSeconds(15)), "claude runs again in healed");
        // Closed again, as she would: what follows counts her two first sessions.
        assertTrue(users.tmux(alice).run("kill-session", "-t", "=healed").ok());
        assertEquals(0, Repo.script("t3-save.java", env).exit());

        for (int i = 0; i < 20 && TestUsers.pkill("-KILL", alice) == 0; i++) Thread.sleep(100);
        assertTrue(Children.waitFor(() -> users.tmux(alice).socketState() != Tmux.SocketState.LIVE, Duration.ofSeconds(5)));
        Children.Ran r = Repo.script("t3-restore.java", env);
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.all().contains("2 sessions back (of 2 saved"), r.all());
        Map<String, Double> m = read("restore");
        assertEquals(2.0, m.get("t3_tmux_restore_sessions_restored" + u()), m.toString());
        assertEquals(1.0, m.get("t3_tmux_restore_conversations_resumed" + u()), r.all());
        assertEquals(0.0, m.get("t3_tmux_restore_failed" + u()));
        assertEquals(0.0, m.get("t3_tmux_restore_conversations_failed" + u()), "its claude got going");
        assertTrue(m.get("t3_tmux_restore_attachable_seconds") > 0, m.toString());
    }

    @Test
    @Order(4)
    void reconcileSaysTheDriftItFound() throws Exception {
        Children.Ran r = reconcile("--check");
        Matcher found = Pattern.compile("(\\d+) drift\\(s\\) found").matcher(r.all());
        int drift = found.find() ? Integer.parseInt(found.group(1)) : 0;
        Map<String, Double> m = read("reconcile");
        assertEquals((double) drift, m.get("t3_tmux_reconcile_drift_found"), r.all());
        assertEquals(0.0, m.get("t3_tmux_reconcile_drift_fixed"), "--check fixes nothing");
        assertEquals((double) r.exit(), m.get("t3_tmux_run_exit_status{run=\"reconcile\"}"));
    }

    /** Where Debian's node_exporter reads textfiles, reconcile says how to export there (and writes nothing there by itself). */
    @Test
    @Order(7)
    void reconcileOffersNodeExportersFolderWhenItExists() throws Exception {
        Path folder = Path.of("/var/lib/prometheus/node-exporter");
        // What it makes, and only that, it removes: the first folder on the way that was not there.
        Path made = null;
        for (Path p = folder; p != null && !Files.exists(p); p = p.getParent()) made = p;
        Files.createDirectories(folder);
        try {
            Map<String, String> without = new HashMap<>(env);
            without.remove("T3_METRICS_DIR");
            List<String> cmd = new ArrayList<>(List.of(Repo.ROOT.resolve("jbang").toString(), "--quiet", Repo.ROOT.resolve("t3-reconcile.java").toString(),
                    "--check", "--no-build", "--checkout", Repo.ROOT.toString()));
            Children.Ran r = Children.run(cmd, without, Repo.ROOT, Duration.ofMinutes(5));
            assertTrue(r.all().contains("T3_METRICS_DIR=" + folder + " in /etc/default/t3-tmux"), r.all());
            try (var files = Files.list(folder)) {
                assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith("t3-tmux")), "nothing written there unasked");
            }
        } finally {
            if (made != null) Children.check("rm", "-rf", made.toString());
        }
    }

    @Test
    @Order(6)
    void theStatusScreenShowsWhatTheStateDirHoldsAndWhatIsLive() throws Exception {
        Children.Ran text = reconcile("--status");
        assertEquals(0, text.exit(), text.all());
        List<String> row = text.out().lines().filter(l -> l.startsWith(alice.name() + " ")).map(l -> List.of(l.split(" {2,}"))).findFirst()
                .orElseThrow(() -> new AssertionError("a line for her: " + text.out()));
        assertEquals(List.of(alice.name(), "2", "2", "1", "0", "0"), row.subList(0, 6), "saved, live, running, not running, owed: " + text.out());
        assertTrue(text.out().contains("drift: "), text.out());
        assertFalse(text.out().contains("\u001b["), "no colour where stdout is not a terminal");

        Children.Ran json = reconcile("--status", "--json");
        assertEquals(0, json.exit(), json.all());
        var doc = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.out());
        var her = doc.path("users").get(0);
        assertEquals(alice.name(), her.path("user").asText());
        assertEquals(2, her.path("sessionsSaved").asInt());
        assertEquals(2, her.path("sessionsLive").asInt());
        assertEquals(1, her.path("running").asInt());
        int snapshots;
        try (var files = Files.list(state.resolve("snapshots").resolve(alice.name()))) {
            snapshots = (int) files.count();
        }
        assertEquals(snapshots, her.path("snapshots").asInt());
        assertTrue(her.path("lastSaveAgeSeconds").asLong() < 600, her.toString());
        assertEquals(1, her.path("healsLastDay").asInt(), "the heal of the claude killed in its pane: " + her);
        assertEquals(5, doc.path("units").size(), doc.toString());
        assertTrue(doc.path("drift").isArray());
    }

    @Test
    @Order(5)
    void theAlertRulesPassTheirTestsAndNameOnlyWhatTheRunsWrite() throws Exception {
        Path rules = Repo.ROOT.resolve("docs/prometheus-rules.yml"), tests = Repo.ROOT.resolve("tests/prometheus-rules-test.yml");
        Children.Ran check = Children.run(List.of(promtool.toString(), "check", "rules", rules.toString()), Map.of(), Repo.ROOT, Duration.ofSeconds(30));
        assertEquals(0, check.exit(), check.all());
        Children.Ran test = Children.run(List.of(promtool.toString(), "test", "rules", tests.toString()), Map.of(), Repo.ROOT, Duration.ofSeconds(60));
        assertEquals(0, test.exit(), test.all());
        String text = Files.readString(rules), cases = Files.readString(tests);
        Matcher alert = Pattern.compile("- alert: (\\w+)").matcher(text);
        int alerts = 0;
        while (alert.find()) {
            alerts++;
            assertTrue(cases.contains("alertname: " + alert.group(1)), "a test case for " + alert.group(1));
        }
        assertEquals(4, alerts, "no save, a failed restore, heal gave up, drift");
        assumeTrue(!written.isEmpty(), "the runs above wrote their files");
        Matcher name = Pattern.compile("\\bt3_tmux_[a-z0-9_]+").matcher(text + cases);
        while (name.find()) assertTrue(written.contains(name.group()), name.group() + " is a metric the runs write: " + written);
    }
}
