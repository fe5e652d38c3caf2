import store.SavedSession;
import store.SavedPane;
import store.SavedWindow;
import store.NotRunning;
import base.Accounts;
import claude.Conversations;
import base.Exec;
import store.History;
import base.Procfs;
import save.Programs;
import store.SnapshotFormat;
import store.StateStore;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A whole session comes back: its windows (names, indexes, the active one), each window's panes
 * and layout, the zoom, each pane's cwd, each conversation in its own pane with its launch
 * options, an allowlisted program running again; on a real tmux of a throwaway user, through
 * the scripts as an operator runs them.
 */
class WholeSessionTest {
    TestUsers users;
    Accounts.Account alice;
    Path state, proj, proj2, docs, misc;
    Map<String, String> env = new HashMap<>();

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        users = new TestUsers();
        alice = users.create();
        state = users.dir.resolve("state");
        env.putAll(users.operatorEnv(state, "a=" + alice.name() + "\n"));
        proj = alice.home().resolve("proj");
        proj2 = alice.home().resolve("proj two");
        docs = alice.home().resolve("docs");
        misc = alice.home().resolve("misc");
        Children.asUser(alice, "mkdir", "-p", proj.toString(), proj2.toString(), docs.toString(), misc.toString());
        Children.asUser(alice, "sh", "-c", "seq 1 500 > \"$1\"", "sh", docs.resolve("notes.txt").toString());
    }

    @AfterEach
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    Exec.Result tmux(String... args) {
        Exec.Result r = users.tmux(alice).run(args);
        assertTrue(r.ok(), String.join(" ", args) + ": " + r.err());
        return r;
    }

    /** One window as a user sees it: index, name, active, zoomed, pane count, geometry (the layout without its pane ids). */
    record Win(int index, String name, boolean active, boolean zoomed, int panes, String geometry) {}

    List<Win> windows(String session) {
        List<Win> out = new ArrayList<>();
        String f = String.join("\t", "#{window_index}", "#{window_active}", "#{window_zoomed_flag}", "#{window_panes}", "#{window_layout}", "#{window_name}");
        for (String line : tmux("list-windows", "-t", "=" + session, "-F", f).out().split("\n")) {
            String[] x = line.split("\t", 6);
            out.add(new Win(Integer.parseInt(x[0]), x[5], x[1].equals("1"), x[2].equals("1"), Integer.parseInt(x[3]), geometry(x[4])));
        }
        return out;
    }

    /** A layout without its checksum and pane ids: new panes get new ids, the shape is what a user sees. */
    static String geometry(String layout) {
        return layout.substring(5).replaceAll("(\\d+x\\d+,\\d+,\\d+),\\d+", "$1");
    }

    /** Each pane by "window.pane": its id, pid, cwd (as tmux says) and whether active. */
    record LivePane(String id, int pid, String cwd, boolean active) {}

    Map<String, LivePane> panes(String session) {
        Map<String, LivePane> out = new HashMap<>();
        String f = String.join("\t", "#{window_index}.#{pane_index}", "#{pane_id}", "#{pane_pid}", "#{pane_active}", "#{pane_current_path}");
        for (String line : tmux("list-panes", "-s", "-t", "=" + session, "-F", f).out().split("\n")) {
            String[] x = line.split("\t", 5);
            out.put(x[0], new LivePane(x[1], Integer.parseInt(x[2]), x[4], x[3].equals("1")));
        }
        return out;
    }

    /** The conversation the claude below a pane runs, and its argv. */
    Optional<Procfs.Proc> claudeIn(LivePane p) {
        return new Conversations(Procfs.read(), alice).claudeIn(p.pid());
    }

    String conversationIn(LivePane p) {
        Procfs procs = Procfs.read();
        Conversations c = new Conversations(procs, alice);
        return c.claudeIn(p.pid()).flatMap(c::of).map(assistant.Conversation::id).orElse(null);
    }

    /** The process below a pane whose program name is {@code name}. */
    Optional<Procfs.Proc> running(LivePane p, String name) {
        return Procfs.read().selfAndDescendants(p.pid()).stream().filter(x -> !x.argv().isEmpty() && Programs.name(x.argv().get(0)).equals(name)).findFirst();
    }

    long claudes() {
        return Procfs.read().all().stream().filter(p -> p.uid() == alice.uid() && Conversations.isClaude(p)).count();
    }

    void crash() throws Exception {
        for (int i = 0; i < 20 && TestUsers.pkill("-KILL", alice) == 0; i++) Thread.sleep(100);
        assertTrue(Children.waitFor(() -> users.tmux(alice).socketState() != Tmux.SocketState.LIVE, Duration.ofSeconds(5)));
    }

    @Test
    void windowsPanesLayoutZoomConversationsAndProgramsComeBack() throws Exception {
        tmux("new-session", "-d", "-s", "full", "-n", "chat #1", "-c", proj.toString(), "-x", "200", "-y", "50",
                users.claude("--model", "opus", "--permission-mode", "plan", "--verbose"));
        tmux("new-window", "-d", "-t", "=full:1", "-n", "split", "-c", proj2.toString());
        tmux("split-window", "-d", "-h", "-t", "=full:1.0", "-c", proj2.toString(), users.claude("--add-dir", "/tmp"));
        tmux("split-window", "-d", "-v", "-t", "=full:1.1", "-c", docs.toString());
        tmux("select-layout", "-t", "=full:1", "main-vertical");
        tmux("new-window", "-d", "-t", "=full:3", "-n", "other", "-c", misc.toString(), "sleep 1000");
        tmux("select-window", "-t", "=full:1");
        tmux("select-pane", "-t", "=full:1.1");
        users.typeInto(alice, "=full:1.2", "less notes.txt");
        tmux("resize-pane", "-Z", "-t", "=full:1.1");
        assertTrue(Children.waitFor(() -> claudes() == 2 && running(panes("full").get("1.2"), "less").isPresent(), Duration.ofSeconds(15)),
                "two claudes and less are up");

        List<Win> before = windows("full");
        assertEquals(List.of(0, 1, 3), before.stream().map(Win::index).toList(), "the setup has a gap in its indexes");
        assertTrue(before.get(1).zoomed() && before.get(1).active() && before.get(1).panes() == 3, before.toString());
        Map<String, LivePane> was = panes("full");
        String a = conversationIn(was.get("0.0")), b = conversationIn(was.get("1.1"));
        assertNotNull(a);
        assertNotNull(b);
        assertNotEquals(a, b);

        Children.Ran save = Repo.script("t3-save.java", env);
        assertEquals(0, save.exit(), save.all());
        SavedSession row = new StateStore(state).history(alice.name()).readNewest().rows().get(0);
        assertEquals(3, row.windows().size(), row.toString());
        assertEquals(List.of("less", "notes.txt"), row.panes().stream().filter(p -> p.window() == 1 && p.index() == 2).findFirst().orElseThrow().program());
        assertEquals(List.of(), row.panes().stream().filter(p -> p.window() == 3).findFirst().orElseThrow().program(),
                "sleep is not in T3_RESTORE_PROGRAMS: not saved as a program");

        assertFalse(Files.exists(new StateStore(state).screensFile(alice.name())), "screens are not saved unless T3_SCROLLBACK asks");

        crash();
        Children.Ran plan = Repo.script("t3-restore.java", env, "--dry-run", "--json");
        assertEquals(0, plan.exit(), plan.all());
        List<?> entries = new com.fasterxml.jackson.databind.ObjectMapper().readValue(plan.out(), List.class);
        List<?> planned = (List<?>) ((Map<?, ?>) entries.get(0)).get("panes");
        assertEquals(List.of("resume", "shell", "resume", "program", "shell"), planned.stream().map(x -> ((Map<?, ?>) x).get("action")).toList(),
                "the plan says what each pane does: " + plan.out());
        Children.Ran restore = Repo.script("t3-restore.java", env);
        assertEquals(0, restore.exit(), restore.all());

        assertTrue(Children.waitFor(() -> claudes() == 2, Duration.ofSeconds(15)), "both conversations run again: " + restore.all());
        assertEquals(before, windows("full"), "the same windows: indexes, names, active, zoom, pane counts, layouts");
        Map<String, LivePane> now = panes("full");
        assertEquals(was.keySet(), now.keySet(), "the same panes");
        for (String at : was.keySet()) {
            assertEquals(was.get(at).cwd(), now.get(at).cwd(), "pane " + at + " in its cwd");
            assertEquals(was.get(at).active(), now.get(at).active(), "pane " + at + " active as it was");
        }
        assertEquals(a, conversationIn(now.get("0.0")), "conversation a in its own pane");
        assertEquals(b, conversationIn(now.get("1.1")), "conversation b in its own pane");
        List<String> argvA = claudeIn(now.get("0.0")).orElseThrow().argv();
        assertTrue(String.join(" ", argvA).contains("--model opus --permission-mode plan --resume " + a), "launch options carried: " + argvA);
        assertFalse(argvA.contains("--verbose"), "an option outside the allowlist is not carried: " + argvA);
        assertTrue(String.join(" ", claudeIn(now.get("1.1")).orElseThrow().argv()).contains("--add-dir /tmp --resume " + b));
        assertTrue(Children.waitFor(() -> running(panes("full").get("1.2"), "less").isPresent(), Duration.ofSeconds(10)), "less runs again");
        Procfs.Proc less = running(now.get("1.2"), "less").orElseThrow();
        assertEquals(List.of("less", "notes.txt"), less.argv());
        assertEquals(docs, Procfs.read().cwd(less.pid()).orElseThrow(), "on its file, from its directory");
        assertTrue(running(now.get("3.0"), "sleep").isEmpty(), "a program outside T3_RESTORE_PROGRAMS is not started again");
        assertEquals(alice.shell(), Procfs.read().get(now.get("3.0").pid()).orElseThrow().argv().get(0), "that pane is a login shell");

        // Idempotent: the second restore finds the whole session live and changes nothing.
        Children.Ran again = Repo.script("t3-restore.java", env);
        assertEquals(0, again.exit(), again.all());
        assertEquals(before, windows("full"));
        assertEquals(now, panes("full"), "the same panes, the same processes");
        assertEquals(2, claudes());
    }

    @Test
    void oddNamesAndAnotherBaseIndexSurviveTwoRoundTrips() throws Exception {
        String session = "a:b.c $x #{pid}";
        String tab = "tab\there", newline = "new\nline", escaped = "C:\\temp";
        tmux("new-session", "-d", "-s", session, "-n", tab, "-c", misc.toString(), "-x", "200", "-y", "50");
        String sid = tmux("list-sessions", "-F", "#{session_id}").out().strip();
        String name = tmux("display-message", "-p", "-t", sid + ":", "#{session_name}").out().strip();
        assertFalse(name.isEmpty()); // tmux makes its own of it (a_b_c \$x 123): that is the name to keep
        tmux("new-window", "-d", "-t", sid + ":4", "-n", newline, "-c", docs.toString());
        tmux("split-window", "-d", "-t", sid + ":4.0", "-c", proj.toString());
        tmux("new-window", "-d", "-t", sid + ":6", "-c", misc.toString());
        tmux("rename-window", "-t", sid + ":6", escaped); // rename-window stores C:\\temp, escaped
        tmux("new-window", "-d", "-t", sid + ":7", "-c", misc.toString()); // named by tmux after its program
        List<Win> before = windowsOf(sid);
        assertEquals(List.of(tab, newline, "C:\\\\temp"), before.subList(0, 3).stream().map(Win::name).toList(), "the setup: " + before);

        for (int cycle = 1; cycle <= 2; cycle++) {
            Children.Ran save = Repo.script("t3-save.java", env);
            assertEquals(0, save.exit(), save.all());
            crash();
            if (cycle == 2) {
                // Her tmux now counts windows and panes from 1: indexes come back as saved all the same.
                Children.asUser(alice, "sh", "-c", "printf 'set -g base-index 1\\nsetw -g pane-base-index 1\\n' > ~/.tmux.conf");
            }
            Children.Ran restore = Repo.script("t3-restore.java", env);
            assertEquals(0, restore.exit(), restore.all());
            String now = tmux("list-sessions", "-F", "#{session_id}").out().strip();
            assertEquals(1, now.lines().count(), "one session, named as it was: " + tmux("list-sessions").out());
            assertEquals(name, tmux("display-message", "-p", "-t", now + ":", "#{session_name}").out().strip());
            List<Win> after = windowsOf(now);
            assertEquals(before.stream().map(Win::index).toList(), after.stream().map(Win::index).toList(), "cycle " + cycle);
            assertEquals(before.stream().map(Win::panes).toList(), after.stream().map(Win::panes).toList(), "cycle " + cycle);
            assertEquals(before.subList(0, 3).stream().map(Win::name).toList(), after.subList(0, 3).stream().map(Win::name).toList(),
                    "cycle " + cycle + ": names exactly, tab, newline and backslashes");
            assertEquals("1", tmux("display-message", "-p", "-t", now + ":7", "#{automatic-rename}").out().strip(),
                    "a window tmux named goes on being named by tmux");
        }
    }

    List<Win> windowsOf(String sid) {
        // A name may hold a newline: ask window by window.
        List<Win> out = new ArrayList<>();
        for (String index : tmux("list-windows", "-t", sid, "-F", "#{window_index}").out().strip().split("\n")) {
            String target = sid + ":" + index;
            String name = tmux("display-message", "-p", "-t", target, "#{window_name}").out();
            String f = tmux("display-message", "-p", "-t", target, "#{window_active}\t#{window_zoomed_flag}\t#{window_panes}\t#{window_layout}").out().strip();
            String[] x = f.split("\t");
            out.add(new Win(Integer.parseInt(index), name.substring(0, name.length() - 1), x[0].equals("1"), x[1].equals("1"), Integer.parseInt(x[2]), geometry(x[3])));
        }
        return out;
    }

    String screen(String target) {
        return users.tmux(alice).run("capture-pane", "-p", "-J", "-S", "-", "-t", target).out();
    }

    @Test
    void withScrollbackOnWhatAPaneShowedComesBackRootOnlyAndBounded() throws Exception {
        env.put("T3_SCROLLBACK", "100000");
        env.put("T3_SCROLLBACK_MAX", "16");
        users.newSession(alice, "notes", misc, null);
        users.newSession(alice, "flood", misc, null);
        tmux("split-window", "-d", "-t", "=notes:0.0", "-c", docs.toString());
        users.type(alice, "notes", "echo MARKER-$((6*7))-END");
        users.typeInto(alice, "=notes:0.1", "echo OTHER-$((7*7))-PANE");
        users.type(alice, "flood", "seq 1 60000");
        // Twenty more panes of 16 KiB each: more than the 256 KiB a user may keep.
        String lines = "yes " + "0123456789".repeat(7) + " | head -n 3000; exec sleep 300";
        users.newSession(alice, "many", misc, lines);
        for (int i = 1; i < 20; i++) tmux("new-window", "-d", "-t", "=many:" + i, lines);
        assertTrue(Children.waitFor(() -> screen("=notes:0.0").contains("MARKER-42-END") && screen("=notes:0.1").contains("OTHER-49-PANE")
                && screen("=flood:").contains("\n60000\n"), Duration.ofSeconds(20)), "the marker and the flood are on screen");

        Children.Ran save = Repo.script("t3-save.java", env);
        assertEquals(0, save.exit(), save.all());
        Path file = new StateStore(state).screensFile(alice.name());
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals(0, (Integer) Files.getAttribute(file, "unix:uid"), "root's");
        assertTrue(Files.size(file) <= 16 * 16 * 1024 + 4096, "a user's screens are bounded: " + Files.size(file));
        assertTrue(save.all().contains("not saved with their screen: the user's screens reached 256 KiB"), save.all());
        Map<?, ?> saved = new com.fasterxml.jackson.databind.ObjectMapper().readValue(file.toFile(), Map.class);
        String flood = (String) ((Map<?, ?>) saved.get("flood")).get("0.0");
        assertTrue(flood.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= 16 * 1024, "a pane's screen is bounded: " + flood.length());
        assertTrue(flood.contains("\n60000\n"), "the end of a flood is what is kept");
        assertFalse(flood.contains("\n100\n"), "its beginning is cut off");
        String snapshot = Files.readString(new StateStore(state).history(alice.name()).newest().orElseThrow().file());
        assertFalse(snapshot.contains("MARKER-42-END"), "screens are not in the snapshot");

        crash();
        Children.Ran restore = Repo.script("t3-restore.java", env);
        assertEquals(0, restore.exit(), restore.all());
        assertTrue(Children.waitFor(() -> screen("=notes:0.0").contains("MARKER-42-END"), Duration.ofSeconds(10)),
                "the marker is on the restored pane's screen: " + screen("=notes:0.0") + restore.all());
        assertTrue(screen("=notes:0.1").contains("OTHER-49-PANE") && !screen("=notes:0.1").contains("MARKER-42-END"), "each pane its own screen");
        assertTrue(Children.waitFor(() -> screen("=flood:").contains("\n60000\n"), Duration.ofSeconds(10)));
        assertTrue(Children.waitFor(() -> Procfs.read().get(panes("notes").get("0.0").pid()).map(p -> p.argv().get(0).equals(alice.shell())).orElse(false),
                Duration.ofSeconds(10)), "then the pane's own program, the login shell, runs");
        assertEquals("", tmux("list-buffers", "-F", "#{buffer_name}").out().strip(), "no paste buffer is left behind");
    }

    /** A conversation of alice's on disk, started in {@code dir} and quit: its id. */
    String seedConversation(Path dir) throws Exception {
        Process seed = new ProcessBuilder("setpriv", "--reuid=" + alice.uid(), "--regid=" + alice.gid(), "--init-groups", "--",
                "env", "HOME=" + alice.home(), "sh", "-c", "cd \"$1\" && exec \"$2\"", "sh", dir.toString(), users.bin.resolve("claude").toString())
                .redirectErrorStream(true).start();
        Path sessions = alice.home().resolve(".claude/sessions");
        assertTrue(Children.waitFor(() -> Files.exists(sessions.resolve(seed.pid() + ".json")), Duration.ofSeconds(10)));
        String id = new com.fasterxml.jackson.databind.ObjectMapper().readTree(Files.readString(sessions.resolve(seed.pid() + ".json"))).path("sessionId").asText();
        seed.getOutputStream().write("/exit\n".getBytes());
        seed.getOutputStream().flush();
        assertTrue(seed.waitFor(10, java.util.concurrent.TimeUnit.SECONDS));
        return id;
    }

    @Test
    void aPaneNoRestoreMadeComesBackInItsLiveSessionByHealOnce() throws Exception {
        String id = seedConversation(proj);
        users.newSession(alice, "s", misc, null);
        Children.Ran save = Repo.script("t3-save.java", env);
        assertEquals(0, save.exit(), save.all());
        // What a restore stopped halfway leaves: the live session, and in its row the pane it did not make.
        History history = new StateStore(state).history(alice.name());
        SavedSession live = history.readNewest().rows().get(0);
        List<SavedWindow> windows = new ArrayList<>(live.windows());
        windows.add(new SavedWindow(1, "not recreated", "", false, false, List.of(SavedPane.at(1, 0).active(true).cwd(proj.toString())
                .conversation(id, proj.toString(), null).withNotRunning(NotRunning.NOT_RECREATED).options(List.of("--model", "opus")))));
        history.commit(List.of(SavedSession.of("s", windows)), java.time.Instant.now());

        Children.Ran heal = Repo.script("t3-restore.java", env, "--heal");
        assertEquals(0, heal.exit(), heal.all());
        assertTrue(heal.all().contains("brought back conversation " + id + " of session 's'"), heal.all());
        assertTrue(Children.waitFor(() -> claudes() == 1, Duration.ofSeconds(15)), heal.all());
        List<Win> now = windows("s");
        assertEquals(2, now.size(), "its own window, in the live session: " + now);
        LivePane back = panes("s").get(now.get(1).index() + ".0");
        assertEquals(id, conversationIn(back));
        assertTrue(String.join(" ", claudeIn(back).orElseThrow().argv()).contains("--model opus --resume " + id));

        // Once: later saves and heals see it run in that pane, and make nothing more.
        for (int i = 0; i < 2; i++) {
            assertEquals(0, Repo.script("t3-save.java", env).exit());
            assertEquals(0, Repo.script("t3-restore.java", env, "--heal").exit());
        }
        assertEquals(2, windows("s").size());
        assertEquals(1, claudes());
        SavedPane saved = history.readNewest().rows().get(0).conversations().get(0);
        assertNull(saved.notRunning(), "running, in the pane heal made: " + saved);
        assertNotNull(saved.tmuxPane());

        // One whose claude cannot start in the pane heal makes is made once too, and its id is kept.
        String other = seedConversation(proj2);
        SavedSession row = history.readNewest().rows().get(0);
        List<SavedWindow> more = new ArrayList<>(row.windows());
        more.add(new SavedWindow(9, "not recreated", "", false, false, List.of(SavedPane.at(9, 0).active(true).cwd(proj2.toString())
                .conversation(other, proj2.toString(), null).withNotRunning(NotRunning.NOT_RECREATED))));
        history.commit(List.of(SavedSession.of("s", more)), java.time.Instant.now());
        Map<String, String> broken = new HashMap<>(env);
        broken.put("T3_CLAUDE", "/nonexistent/claude");
        for (int i = 0; i < 3; i++) {
            assertEquals(0, Repo.script("t3-restore.java", broken, "--heal").exit());
            assertEquals(0, Repo.script("t3-save.java", env).exit());
        }
        assertEquals(3, windows("s").size(), "made once: " + windows("s"));
        SavedPane kept = history.readNewest().rows().get(0).conversations().stream()
                .filter(p -> p.conversation().equals(other)).findFirst().orElseThrow(() -> new AssertionError("the id is kept"));
        assertNotNull(kept.notRunning(), "kept, not running: " + kept);
        assertNotEquals(NotRunning.NOT_RECREATED, kept.notRunning(), "no longer one for heal to make");
    }

    @Test
    void aSnapshotOfTheOlderFormatRestoresAsBefore() throws Exception {
        // A conversation of alice's on disk, and a v2 snapshot naming it, as the previous release wrote them.
        String id = seedConversation(proj);

        new StateStore(state).prepare();
        Path file = state.resolve("snapshots").resolve(alice.name()).resolve("20261101T000000Z.tsv");
        Files.createDirectories(file.getParent());
        Files.writeString(file, "# t3-tmux snapshot v2\tsession\tcwd\tconversation\tconversation_cwd\tclaude_config\tnot_running\n"
                + "old\t" + proj + "\t" + id + "\t" + proj + "\t-\t-\n" + "plain\t" + misc + "\t-\t-\t-\t-\n");
        Files.createSymbolicLink(state.resolve(alice.name() + ".tsv"), state.relativize(file));

        Children.Ran restore = Repo.script("t3-restore.java", env);
        assertEquals(0, restore.exit(), restore.all());
        assertTrue(Children.waitFor(() -> claudes() == 1, Duration.ofSeconds(15)), restore.all());
        List<Win> old = windows("old");
        assertEquals(1, old.size(), "one window");
        assertEquals(1, old.get(0).panes(), "one pane");
        assertEquals(id, conversationIn(panes("old").get(old.get(0).index() + ".0")), "its conversation resumed");
        assertEquals(misc.toString(), panes("plain").values().iterator().next().cwd());
    }
}
