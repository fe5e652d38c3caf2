import store.SavedSession;
import base.Accounts;
import claude.Conversations;
import store.History;
import base.Procfs;
import store.SnapshotFormat;
import store.StateStore;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Nothing is lost: the history of snapshots and the verbs over it (--list, --snapshot, --find,
 * --forget, --json), a claude killed while its session lives on, a restore killed halfway, a
 * restore whose claude cannot start. Real tmux servers of a throwaway user, the fake claude,
 * the scripts run as an operator runs them.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HistoryIntegrationTest {
    static final String C1 = "aaaa1111-0000-4000-8000-000000000001", C2 = "aaaa2222-0000-4000-8000-000000000002";
    static final List<String> ALL = List.of("7", "007", "c1", "c2", "s1", "s2", "s3", "s4", "s5");
    TestUsers users;
    Accounts.Account alice;
    Path state, proj, elsewhere;
    Map<String, String> env = new HashMap<>();
    String sevenId;

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        users = new TestUsers();
        alice = users.create();
        state = users.dir.resolve("state");
        env.putAll(users.operatorEnv(state, "a=" + alice.name() + "\n"));
        proj = alice.home().resolve("proj");
        elsewhere = alice.home().resolve("elsewhere");
        Children.asUser(alice, "mkdir", "-p", proj.toString(), elsewhere.toString());
        // Conversations start in proj; the panes then move on elsewhere: restore must resume in proj.
        // "7" runs claude from its shell, as people do: when claude dies, the pane lives on.
        users.newSession(alice, "7", proj, null);
        users.type(alice, "7", users.claude());
        users.newSession(alice, "c1", proj, users.claude("--session-id", C1));
        users.newSession(alice, "c2", proj, users.claude("--session-id", C2));
        for (String s : List.of("007", "s1", "s2", "s3", "s4", "s5")) users.newSession(alice, s, elsewhere, null);
        assertTrue(Children.waitFor(() -> claudes() == 3, Duration.ofSeconds(15)), "3 fake claudes started");
        save();
        sevenId = rows().get("7").conversation();
        assertNotNull(sevenId);
    }

    @AfterAll
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    long claudes() {
        return Procfs.read().all().stream().filter(p -> p.uid() == alice.uid() && Conversations.isClaude(p)).count();
    }

    Children.Ran save() {
        Children.Ran r = Repo.script("t3-save.java", env);
        assertEquals(0, r.exit(), r.all());
        return r;
    }

    Children.Ran restore(String... args) {
        List<String> all = new ArrayList<>(List.of("--user", alice.name()));
        all.addAll(List.of(args));
        return Repo.script("t3-restore.java", env, all.toArray(String[]::new));
    }

    Map<String, SavedSession> rows() throws Exception {
        return new StateStore(state).history(alice.name()).readNewest().rows().stream().collect(Collectors.toMap(SavedSession::session, r -> r));
    }

    List<History.Snapshot> snapshots() throws Exception {
        return new StateStore(state).history(alice.name()).list();
    }

    Map<String, Integer> live() {
        return users.tmux(alice).listSessions().sessions().stream().collect(Collectors.toMap(Tmux.Session::name, Tmux.Session::panePid));
    }

    void kill(String... sessions) {
        for (String s : sessions) assertTrue(users.tmux(alice).run("kill-session", "-t", "=" + s).ok(), s);
    }

    /** The conversation the claude below a session's pane resumes (from its argv), and its cwd. */
    Map.Entry<String, Path> resumedIn(String session) {
        Procfs procs = Procfs.read();
        Procfs.Proc c = new Conversations(procs, alice).claudeIn(live().get(session)).orElseThrow(() -> new AssertionError(session + ": no claude"));
        int i = c.argv().indexOf("--resume");
        assertTrue(i > 0, session + ": " + c.argv());
        return Map.entry(c.argv().get(i + 1), procs.cwd(c.pid()).orElseThrow());
    }

    void crash() throws Exception {
        for (int i = 0; i < 20 && TestUsers.pkill("-KILL", alice) == 0; i++) Thread.sleep(100);
        assertTrue(Children.waitFor(() -> users.tmux(alice).socketState() != Tmux.SocketState.LIVE, Duration.ofSeconds(5)));
    }

    @Test
    @Order(1)
    void aPartialLossIsUndoneFromAnOlderSnapshot() throws Exception {
        kill("007", "s1", "s2", "s3");
        save();
        kill("c1", "c2", "s4");
        Children.Ran unchanged = save();
        assertEquals(3, snapshots().size(), "9 -> 5 -> 2: three snapshots");
        Children.Ran again = save();
        assertTrue(again.all().contains("unchanged: nothing written"), again.all());
        assertEquals(3, snapshots().size(), "an unchanged save writes nothing");

        Children.Ran list = restore("--list");
        assertEquals(0, list.exit(), list.all());
        List<List<String>> table = list.out().lines().skip(1).map(l -> List.of(l.split(" +"))).toList();
        assertEquals(List.of("2", "5", "9"), table.stream().map(c -> c.get(2)).toList(), list.out());
        assertEquals(List.of("1", "3", "3"), table.stream().map(c -> c.get(3)).toList(), "conversations: " + list.out());
        String first = table.get(2).get(0);

        Children.Ran json = restore("--list", "--json");
        assertEquals(0, json.exit(), json.all());
        JsonNode doc = new ObjectMapper().readTree(json.out());
        assertEquals(3, doc.size(), json.out());
        for (int i = 0; i < 3; i++) {
            assertEquals(table.get(i).get(0), doc.get(i).get("snapshot").asText());
            assertEquals(table.get(i).get(1), doc.get(i).get("time").asText());
            assertEquals(Integer.parseInt(table.get(i).get(2)), doc.get(i).get("sessions").asInt());
            assertEquals(Integer.parseInt(table.get(i).get(3)), doc.get(i).get("conversations").asInt());
        }

        Map<String, Integer> survivors = live();
        assertEquals(Set.of("7", "s5"), survivors.keySet());
        Children.Ran dry = restore("--snapshot", first, "--dry-run", "--json");
        assertEquals(0, dry.exit(), dry.all());
        Map<String, JsonNode> plan = new HashMap<>();
        new ObjectMapper().readTree(dry.out()).forEach(n -> plan.put(n.get("session").asText(), n));
        assertEquals(new TreeSet<>(ALL), new TreeSet<>(plan.keySet()));
        assertEquals("live-same-conversation", plan.get("7").get("state").asText());
        assertEquals("skip", plan.get("7").get("action").asText());
        assertEquals("missing", plan.get("c1").get("state").asText());
        assertEquals("resume", plan.get("c1").get("action").asText());
        assertEquals(C1, plan.get("c1").get("conversation").asText());
        assertTrue(plan.get("s1").get("conversation").isNull());
        assertEquals(survivors, live(), "a dry run changes nothing");

        Children.Ran r = restore("--snapshot", first);
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.all().contains("7 sessions back (of 9 saved"), r.all());
        assertEquals(new TreeSet<>(ALL), new TreeSet<>(live().keySet()));
        assertEquals(survivors.get("7"), live().get("7"), "a live session is left alone");
        assertEquals(survivors.get("s5"), live().get("s5"));
        assertEquals(Map.entry(C1, proj), resumedIn("c1"), "resumed in the conversation's starting directory, not the pane's");
        assertEquals(Map.entry(C2, proj), resumedIn("c2"));
        save();
        assertEquals(new TreeSet<>(ALL), new TreeSet<>(rows().keySet()));
    }

    @Test
    @Order(2)
    void aKilledClaudeKeepsItsConversationInTheRow() throws Exception {
        assertTrue(live().containsKey("7"), live().toString());
        Procfs.Proc seven = new Conversations(Procfs.read(), alice).claudeIn(live().get("7")).orElseThrow();
        Children.check("kill", "-KILL", Integer.toString(seven.pid()));
        assertTrue(Children.waitFor(() -> new Conversations(Procfs.read(), alice).claudeIn(live().get("7")).isEmpty(), Duration.ofSeconds(5)));
        Children.Ran first = save();
        assertTrue(first.all().contains("'7' keeps conversation " + sevenId), first.all());
        SavedSession row = rows().get("7");
        assertEquals(sevenId, row.conversation());
        assertNotNull(row.notRunning(), "marked not running");
        int before = snapshots().size();
        Children.Ran second = save();
        assertEquals(row, rows().get("7"), "the second save keeps it too");
        assertEquals(before, snapshots().size(), "and, nothing else changing, writes nothing");

        Children.Ran dry = restore("--dry-run");
        assertTrue(dry.out().lines().anyMatch(l -> l.contains(" 7 ") && l.contains("live-shell") && l.contains(sevenId)), dry.out());
    }

    @Test
    @Order(3)
    void findMatchesNamesExactlyAndResumesWhatWasNotRunning() throws Exception {
        kill("7", "007");
        save();
        Children.Ran r = restore("--find", "7");
        assertEquals(0, r.exit(), r.all());
        assertTrue(live().containsKey("7") && !live().containsKey("007"), "7 never matches 007: " + live().keySet());
        assertEquals(Map.entry(sevenId, proj), resumedIn("7"), "asked for by name: its conversation resumes though it was not running");
        Children.Ran zeros = restore("--find", "007");
        assertEquals(0, zeros.exit(), zeros.all());
        assertTrue(live().containsKey("007"));

        Children.Ran ambiguous = restore("--find", "aaaa");
        assertEquals(2, ambiguous.exit(), ambiguous.all());
        assertTrue(ambiguous.all().contains(C1) && ambiguous.all().contains(C2), ambiguous.all());
        Children.Ran nothing = restore("--find", "1e2");
        assertEquals(2, nothing.exit(), nothing.all());
        Children.Ran unknown = restore("--snapshot", snapshots().get(0).name(), "--session", "c1", "--session", "nope");
        assertEquals(2, unknown.exit(), unknown.all());
        assertTrue(unknown.all().contains("'nope'"), unknown.all());
        Children.Ran noTime = restore("--snapshot", "19990101T000000Z");
        assertEquals(2, noTime.exit(), noTime.all());
    }

    @Test
    @Order(4)
    void aForgottenSessionStaysClosedUntilAskedFor() throws Exception {
        kill("s1");
        save();
        Children.Ran f = restore("--forget", "s1");
        assertEquals(0, f.exit(), f.all());
        assertEquals(2, restore("--forget", "never-was").exit(), "a name no snapshot knows is refused");
        crash();
        Children.Ran r = restore();
        assertEquals(0, r.exit(), r.all());
        assertFalse(live().containsKey("s1"), "the boot/blanket restore skips a forgotten session");
        assertTrue(live().keySet().containsAll(List.of("c1", "c2", "s2")), live().keySet().toString());
        Children.Ran find = restore("--find", "s1");
        assertEquals(0, find.exit(), find.all());
        assertTrue(live().containsKey("s1"), "--find brings it back");
        save();
        assertFalse(Files.exists(new StateStore(state).forgottenFile(alice.name())), "seen live again: no longer forgotten");
    }

    @Test
    @Order(5)
    void aRestoreKilledHalfwayLeavesEveryRowOwed() throws Exception {
        Set<String> before = new TreeSet<>(rows().keySet());
        crash();
        // alice's tmux config stops her new server as it starts: the restore's tmux call hangs, and it is killed there.
        Path conf = alice.home().resolve(".tmux.conf");
        Files.writeString(conf, "run-shell 'kill -STOP $PPID'\n");
        Children.check("chown", alice.name(), conf.toString());
        List<String> cmd = List.of(Repo.ROOT.resolve("jbang").toString(), "--quiet", Repo.ROOT.resolve("t3-restore.java").toString(), "--user", alice.name());
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(users.dir.resolve("restore.log").toFile());
        pb.environment().putAll(env);
        Process restore = pb.start();
        java.util.function.Supplier<Optional<Integer>> frozenServer = () -> Procfs.read().all().stream()
                .filter(p -> p.uid() == alice.uid() && p.comm().startsWith("tmux") && state(p.pid()) == 'T').map(Procfs.Proc::pid).findFirst();
        try {
            assertTrue(Children.waitFor(() -> frozenServer.get().isPresent() || !restore.isAlive(), Duration.ofSeconds(60)),
                    "the restore started a server, and it froze");
            assertTrue(restore.isAlive(), "the restore is still under way: " + Files.readString(users.dir.resolve("restore.log")));
            assertTrue(Files.exists(new StateStore(state).owedFile(alice.name())), "what it owes is on disk before anything exists");
            restore.destroyForcibly().waitFor();
        } finally {
            Files.deleteIfExists(conf);
            frozenServer.get().ifPresent(pid -> Children.check("kill", "-CONT", Integer.toString(pid)));
        }
        Thread.sleep(500); // the dead restore's tmux call is served now: some sessions may exist, none is recorded
        Children.Ran s = save();
        assertEquals(before, new TreeSet<>(rows().keySet()), "every row is kept, live or owed: " + s.all());
        Children.Ran again = restore();
        assertEquals(0, again.exit(), again.all());
        assertEquals(before, new TreeSet<>(live().keySet()));
        assertFalse(Files.exists(new StateStore(state).owedFile(alice.name())), "nothing owed any more");
    }

    /** The state letter of a process (field 3 of /proc/pid/stat): 'T' when stopped. */
    static char state(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2);
        } catch (Exception e) {
            return '?';
        }
    }

    @Test
    @Order(6)
    void aClaudeThatCannotStartLosesNoConversation() throws Exception {
        crash();
        Map<String, String> broken = new HashMap<>(env);
        broken.put("T3_CLAUDE", "/nonexistent/claude");
        Children.Ran r = Repo.script("t3-restore.java", broken, "--user", alice.name());
        assertEquals(0, r.exit(), r.all());
        assertTrue(live().keySet().containsAll(List.of("c1", "c2")));
        assertTrue(r.all().contains("'c1' came back as a shell: claude did not start: '/nonexistent/claude' is not on"), r.all());
        assertTrue(r.all().contains("0 resumed"), "the log does not claim a resume that failed: " + r.all());
        assertTrue(rows().get("c1").notRunning().text().contains("not on " + alice.name() + "'s login PATH"), "the reason is in the row: " + rows().get("c1"));
        save();
        save();
        SavedSession c1 = rows().get("c1");
        assertEquals(C1, c1.conversation(), "the id survives a restore that came back as a shell: " + rows());
        assertTrue(c1.notRunning().text().contains("is not on " + alice.name() + "'s login PATH"), "saves keep the reason: " + c1);
        assertEquals(C2, rows().get("c2").conversation());

        // A claude that runs a moment before it fails (as one does that finds no conversation) did not start either.
        crash();
        Path slow = Files.createDirectories(users.dir.resolve("slow"));
        Files.writeString(slow.resolve("claude"), "#!/bin/sh\nsleep 1\necho 'No conversation found' >&2\nexit 1\n");
        Files.setPosixFilePermissions(slow.resolve("claude"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        broken.put("T3_CLAUDE", slow.resolve("claude").toString());
        Children.Ran again = Repo.script("t3-restore.java", broken, "--user", alice.name());
        assertTrue(again.all().contains("'c1' came back as a shell: claude exited at once with status 1"), again.all());
        assertTrue(again.all().contains("0 resumed"), "a claude alive for a moment is not a resume: " + again.all());
    }

    @Test
    @Order(7)
    void everyVerbRefusesAUserOutsideTheRosterAndOptionsThatClash() {
        Accounts.Account bob = users.create();
        for (List<String> verb : List.of(List.of("--list"), List.of("--find", "s1"), List.of("--forget", "s1"),
                List.of("--snapshot", "20261124T193000Z"), List.of("--dry-run"))) {
            List<String> args = new ArrayList<>(List.of("--user", bob.name()));
            args.addAll(verb);
            Children.Ran r = Repo.script("t3-restore.java", env, args.toArray(String[]::new));
            assertEquals(2, r.exit(), verb + ": " + r.all());
            assertTrue(r.all().contains("not in the roster"), verb + ": " + r.all());
        }
        Children.Ran json = restore("--json");
        assertEquals(2, json.exit(), json.all());
        assertTrue(json.all().contains("--json goes with --list or --dry-run"), json.all());
        assertEquals(2, restore("--list", "--find", "x").exit(), "one verb at a time");
        Children.Ran help = Repo.script("t3-restore.java", env, "--help");
        assertEquals(0, help.exit());
        for (String option : List.of("--list", "--snapshot", "--session", "--find", "--forget", "--dry-run", "--json", "T3_KEEP", "T3_KEEP_DAYS"))
            assertTrue(help.out().contains(option), option + " is in --help: " + help.out());
    }

    @Test
    @Order(8)
    void aSessionOwedOnceThenClosedByItsUserStaysClosed() throws Exception {
        StateStore store = new StateStore(state);
        SavedSession x = new SavedSession("owed-then-closed", alice.home().toString(), null, null, null);
        store.owed(alice.name()).begin(List.of(x), List.of(x)); // a restore died after making it
        users.newSession(alice, x.session(), alice.home(), null);
        save();
        assertTrue(store.owed(alice.name()).rows().isEmpty(), "seen live: owed no more");
        kill(x.session());
        save();
        Children.Ran r = restore();
        assertEquals(0, r.exit(), r.all());
        assertFalse(live().containsKey(x.session()), "the user's kill-session is not undone");
    }

    @Test
    @Order(9)
    void forgettingALiveSessionHoldsOnceItIsClosed() throws Exception {
        assertTrue(live().containsKey("s2"));
        Children.Ran f = restore("--forget", "s2");
        assertEquals(0, f.exit(), f.all());
        save(); // sees s2 live: made before it was forgotten, so it stays forgotten
        kill("s2");
        save();
        Children.Ran r = restore();
        assertEquals(0, r.exit(), r.all());
        assertFalse(live().containsKey("s2"), "forgotten while live, then closed: not restored");
        assertTrue(Files.exists(new StateStore(state).forgottenFile(alice.name())));
    }
}
