import store.SavedSession;
import base.Accounts;
import claude.Conversations;
import store.EndedSessions;
import base.Exec;
import base.KernelLog;
import base.Procfs;
import store.SnapshotFormat;
import store.StateStore;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A user's tmux server dies and she starts a new one before the next save (the web terminal does
 * when she reconnects): the old server's sessions are never dropped. With the kernel's word that
 * the server was OOM-killed, heal brings them back into her new server; without it (a kill -9,
 * her kill-server) they are kept for her to bring back by name, and no restore undoes her choice.
 * Real tmux servers of throwaway users, the fake claude, a real OOM kill in a memory cgroup, a
 * small tmpfs for a full disk.
 */
class ServerEndTest {
    TestUsers users;
    Accounts.Account alice;
    Path state, proj;
    Map<String, String> env = new HashMap<>();

    @BeforeEach
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users, run tmux as them and kill their servers; run the tests as root (CI does)");
        users = new TestUsers();
        alice = users.create();
        state = users.dir.resolve("state");
        Path map = Files.writeString(users.dir.resolve("user-map"), "a=" + alice.name() + "\n");
        env.putAll(Map.of("T3_USER_MAP", map.toString(), "T3_STATE_DIR", state.toString(),
                "T3_TMUX_TMPDIR", users.tmuxTmp.toString(), "T3_CLAUDE", users.claude()));
        proj = alice.home().resolve("proj");
        Children.asUser(alice, "mkdir", "-p", proj.toString());
        users.newSession(alice, "work", proj, null);
        users.type(alice, "work", users.claude());
        users.newSession(alice, "notes", alice.home(), null);
        assertTrue(Children.waitFor(() -> claudeIn("work").isPresent(), Duration.ofSeconds(20)), "the fake claude started");
        save();
    }

    @AfterEach
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    @Test
    void aKilledServerReplacedBeforeTheNextSaveKeepsItsSessionsAndOnlyANamedRestoreBringsThemBack() throws Exception {
        String id = conversationIn("work");
        int old = users.serverPid(alice);
        Children.check("kill", "-KILL", Integer.toString(old));
        assertTrue(Children.waitFor(() -> ProcessHandle.of(old).isEmpty(), Duration.ofSeconds(5)));
        users.newSession(alice, "fresh", alice.home(), null); // she reconnects

        Children.Ran saved = save();
        assertTrue(saved.all().contains("ended with no crash on record") && saved.all().contains("2 session(s)") && saved.all().contains("'work'") && saved.all().contains("'notes'")
                && saved.all().contains("--session NAME"), "one line says they are kept and how to bring one back: " + saved.all());
        Map<String, SavedSession> rows = newest();
        assertEquals(Set.of("fresh", "work", "notes"), rows.keySet(), "the dead server's sessions are kept beside the live one");
        assertNotNull(rows.get("work").ended(), "marked ended with its server");
        assertFalse(rows.get("work").ended().crashed(), "no evidence: a kill -9 cannot be told from her kill-server");
        assertEquals(id, rows.get("work").conversation(), "the conversation id is kept");
        assertTrue(rows.get("work").notRunning().text().startsWith(EndedSessions.SERVER_ENDED), rows.get("work").notRunning().text());
        assertNull(rows.get("fresh").ended());

        heal();
        Children.Ran blanket = restore();
        assertEquals(Set.of("fresh"), live(), "neither heal nor a blanket restore undoes what may have been her choice: " + blanket.all());
        Children.Ran plan = restore("--dry-run", "--json");
        assertTrue(plan.out().contains("ended with no crash on record") && plan.out().contains("--session or --find brings it back")
                && plan.out().contains("\"ended\" : {"), "the plan says why each is skipped and which server it ended with: " + plan.out());
        assertTrue(plan.out().contains("\"assistant\" : \"claude\""), "and whose conversation each is: " + plan.out());
        Children.Ran list = restore("--user", alice.name(), "--list");
        List<String> header = List.of(list.out().lines().findFirst().orElse("").split(" {2,}"));
        List<String> newestLine = List.of(list.out().lines().skip(1).findFirst().orElse("").split(" {2,}"));
        assertEquals("2", newestLine.get(header.indexOf("ENDED")), "--list counts the sessions kept: " + list.out());
        assertEquals("claude " + newestLine.get(header.indexOf("CONVERSATIONS")), newestLine.get(header.indexOf("ASSISTANTS")),
                "and says whose conversations they are: " + list.out());
        Children.Ran listJson = restore("--user", alice.name(), "--list", "--json");
        assertTrue(listJson.out().contains("\"assistants\" : {") && listJson.out().contains("\"claude\" : "), listJson.out());
        assertEquals(Set.of("fresh", "work", "notes"), newest().keySet(), "a save after the heal and the restore still keeps them");
        save();
        assertEquals(Set.of("fresh", "work", "notes"), newest().keySet(), "and the next one");

        Children.Ran named = restore("--user", alice.name(), "--session", "work");
        assertEquals(Set.of("fresh", "work"), live(), named.all());
        assertTrue(Children.waitFor(() -> claudeIn("work").isPresent(), Duration.ofSeconds(15)), "its conversation resumes: " + named.all());
        assertEquals(id, conversationIn("work"));
        assertNull(newest().get("work").ended(), "back, it is live again: " + newest().get("work"));
        restore("--user", alice.name(), "--find", "notes");
        assertEquals(Set.of("fresh", "work", "notes"), live());
    }

    @Test
    void anOomKilledServerReplacedAtOnceIsHealedIntoTheNewOneAndALaterKillServerIsRespected() throws Exception {
        String id = conversationIn("work");
        int old = users.serverPid(alice);
        oomKill(old);
        users.newSession(alice, "fresh", alice.home(), null); // within a second or two: a reconnect

        Children.Ran saved = save();
        assertTrue(saved.all().contains("was killed by the OOM killer at") && saved.all().contains("heal brings them back"), saved.all());
        SavedSession work = newest().get("work");
        assertTrue(work.ended().crashed(), "the kernel's OOM line names the very server the snapshot recorded: " + work.ended());
        assertTrue(work.notRunning().text().startsWith(EndedSessions.SERVER_KILLED), work.notRunning().text());

        Children.Ran healed = heal();
        assertEquals(Set.of("fresh", "work", "notes"), live(), "heal brought them back into her live server: " + healed.all());
        assertTrue(Children.waitFor(() -> claudeIn("work").isPresent(), Duration.ofSeconds(15)), "resuming its conversation: " + healed.all());
        assertEquals(id, conversationIn("work"));
        assertEquals(proj, Procfs.read().cwd(claudeIn("work").orElseThrow().pid()).orElseThrow(), "in its starting directory");
        heal();
        assertEquals(1, users.tmux(alice).listPanes().stream().filter(p -> p.session().equals("work")).count(), "once: a second heal makes nothing");

        save();
        assertTrue(users.tmux(alice).run("kill-server").ok());
        assertTrue(Children.waitFor(() -> users.tmux(alice).socketState() != Tmux.SocketState.LIVE, Duration.ofSeconds(5)));
        save();
        Children.Ran after = heal();
        assertNotEquals(Tmux.SocketState.LIVE, users.tmux(alice).socketState(),
                "the old OOM kill names another server: her kill-server is respected: " + after.all());
        assertTrue(after.all().contains("no crash is on record"), after.all());
    }

    @Test
    void aReconnectUnderTheSameNameKeepsTheKilledConversationAndHealBringsItBackInThatSession() throws Exception {
        String id = conversationIn("work");
        oomKill(users.serverPid(alice));
        users.newSession(alice, "work", alice.home(), null); // the web terminal reconnects to the name it knows

        save();
        SavedSession work = newest().get("work");
        assertNull(work.ended(), "a live session of that name: the row is the live one");
        assertTrue(work.conversations().stream().anyMatch(p -> p.conversation().equals(id) && EndedSessions.healedInPlace(p)),
                "the killed conversation is kept aside in it: " + work);
        assertFalse(newest().containsKey("notes") && newest().get("notes").ended() == null, "notes ended with the server");

        Children.Ran healed = heal();
        assertTrue(Children.waitFor(() -> claudeIn("work").isPresent(), Duration.ofSeconds(15)), "resumed in the live session: " + healed.all());
        assertEquals(id, conversationIn("work"));
        assertEquals(2, users.tmux(alice).run("list-windows", "-t", "=work:").out().lines().count(), "in a window of its own, beside hers");
        assertTrue(live().contains("notes"), "and the session that ended with the server is back: " + healed.all());
        save();
        heal();
        assertEquals(2, users.tmux(alice).run("list-windows", "-t", "=work:").out().lines().count(), "once");
    }

    @Test
    void aReconnectUnderTheSameNameAfterAKillKeepsTheConversationAsideAndFindBringsItBack() throws Exception {
        String id = conversationIn("work");
        int old = users.serverPid(alice);
        Children.check("kill", "-KILL", Integer.toString(old));
        assertTrue(Children.waitFor(() -> ProcessHandle.of(old).isEmpty(), Duration.ofSeconds(5)));
        users.newSession(alice, "work", alice.home(), null);

        Children.Ran saved = save();
        assertTrue(saved.all().contains("1 conversation(s) " + id) && saved.all().contains("kept aside") && saved.all().contains("--find NAME or ID"),
                "one line says where it is kept and how to bring it back: " + saved.all());
        heal();
        assertTrue(claudeIn("work").isEmpty(), "no evidence: heal leaves it alone");
        Children.Ran found = restore("--user", alice.name(), "--find", id.substring(0, 8));
        assertTrue(Children.waitFor(() -> claudeIn("work").isPresent(), Duration.ofSeconds(15)), "--find brings it back: " + found.all());
        assertEquals(id, conversationIn("work"));
        assertEquals(2, users.tmux(alice).run("list-windows", "-t", "=work:").out().lines().count(), "in a window of its own in her session");
    }

    @Test
    void aServerOfAnEarlierBootWasEndedByTheRebootNotByHer() throws Exception {
        // The newest snapshot as a save of an earlier boot wrote it: its server ran under another boot id.
        Path newest = new StateStore(state).history(alice.name()).newest().orElseThrow().file();
        String text = Files.readString(newest);
        String boot = Procfs.bootId();
        assertTrue(text.lines().findFirst().orElseThrow().endsWith("@" + boot), "the header names this boot: " + text);
        Files.writeString(newest, text.replace("@" + boot + "\n", "@00000000-0000-4000-8000-0000000000ff\n"));
        // That boot's restore did nothing for her; she opens the web terminal.
        assertTrue(users.tmux(alice).run("kill-server").ok());
        assertTrue(Children.waitFor(() -> users.tmux(alice).socketState() != Tmux.SocketState.LIVE, Duration.ofSeconds(5)));
        users.newSession(alice, "fresh", alice.home(), null);

        Children.Ran saved = save();
        assertTrue(saved.all().contains("was killed by a reboot"), saved.all());
        assertTrue(newest().get("work").ended().crashed(), "a reboot was never her choice: " + newest().get("work"));
        Children.Ran healed = heal();
        assertEquals(Set.of("fresh", "work", "notes"), live(), healed.all());
        assertTrue(Children.waitFor(() -> claudeIn("work").isPresent(), Duration.ofSeconds(15)), "resumed: " + healed.all());
    }

    @Test
    void aFullDiskStillRestoresAndHealsAndSaysWhatItCouldNotRecord() throws Exception {
        // The state dir on a small file system of its own, filled up after the save.
        Path small = users.dir.resolve("small");
        Files.createDirectory(small);
        Exec.Result mount = Exec.run(List.of("mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "t3-test-full", small.toString()), Duration.ofSeconds(10));
        assumeTrue(mount.ok(), "cannot mount a tmpfs here (" + mount.firstErrorLine() + "); a full disk needs a file system of its own");
        try {
            env.put("T3_STATE_DIR", small.resolve("state").toString());
            save();
            Path snapshot = state(small).history(alice.name()).newest().orElseThrow().file();
            String before = Files.readString(snapshot);
            fill(small);

            int old = users.serverPid(alice);
            Children.check("kill", "-KILL", Integer.toString(old));
            assertTrue(Children.waitFor(() -> ProcessHandle.of(old).isEmpty(), Duration.ofSeconds(5)));
            Children.Ran r = Repo.script("t3-restore.java", env);
            assertEquals(1, r.exit(), "what could not be recorded is a failure: " + r.all());
            assertEquals(Set.of("work", "notes"), live(), "the sessions are back all the same: " + r.all());
            assertTrue(r.all().contains("could not record what this restore owes (" + small.resolve("state").resolve(alice.name() + ".pending")),
                    "the log names the file it could not write: " + r.all());
            assertEquals(1, r.all().split("could not record what this restore owes", -1).length - 1, "said once: " + r.all());
            assertTrue(Children.waitFor(() -> claudeIn("work").isPresent(), Duration.ofSeconds(15)), "its conversation resumed: " + r.all());
            assertEquals(before, Files.readString(snapshot), "the last good snapshot is intact");

            // A claude killed in its pane: heal resumes it though it cannot write down that it did.
            Procfs.Proc c = claudeIn("work").orElseThrow();
            String id = conversationIn("work");
            Children.check("kill", "-KILL", Integer.toString(c.pid()));
            assertTrue(Children.waitFor(() -> claudeIn("work").isEmpty(), Duration.ofSeconds(5)));
            Thread.sleep(500);
            Children.Ran h = Repo.script("t3-restore.java", env, "--heal");
            assertEquals(1, h.exit(), h.all());
            assertTrue(h.all().contains("could not be recorded in " + small.resolve("state").resolve(alice.name() + ".heals")), h.all());
            assertTrue(Children.waitFor(() -> claudeIn("work").isPresent(), Duration.ofSeconds(15)), "healed all the same: " + h.all());
            assertEquals(id, conversationIn("work"));
            Path fallback = state(small).healFallback(alice.name());
            assertTrue(h.all().contains("kept in " + fallback), "what heal did is kept for this boot, so it is done once: " + h.all());
            assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(fallback)));
            // She quits the healed claude; the next heal, still on a full disk, does not undo that.
            Procfs.Proc again = claudeIn("work").orElseThrow();
            assertTrue(users.tmux(alice).run("send-keys", "-t", "=work:", "-l", "/exit").ok());
            assertTrue(users.tmux(alice).run("send-keys", "-t", "=work:", "Enter").ok());
            assertTrue(Children.waitFor(() -> ProcessHandle.of(again.pid()).isEmpty(), Duration.ofSeconds(10)), "she quit it");
            Repo.script("t3-restore.java", env, "--heal");
            Thread.sleep(1000);
            assertTrue(claudeIn("work").isEmpty(), "an old crash never undoes her /exit, full disk or not");
        } finally {
            users.tmux(alice).run("kill-server");
            Exec.run(List.of("umount", "-l", small.toString()), Duration.ofSeconds(10));
            Files.deleteIfExists(state(small).healFallback(alice.name()));
            Files.deleteIfExists(state(small).healFallback(alice.name()).getParent());
        }
    }

    // --- helpers ---

    StateStore state(Path dir) {
        return new StateStore(dir.resolve("state"));
    }

    /** Fills the file system under {@code dir} to the last byte. */
    static void fill(Path dir) throws Exception {
        Exec.run(List.of("dd", "if=/dev/zero", "of=" + dir.resolve("filler"), "bs=64k"), Duration.ofSeconds(30));
        Exec.run(List.of("dd", "if=/dev/zero", "of=" + dir.resolve("filler2"), "bs=1"), Duration.ofSeconds(30));
        assertFalse(Exec.run(List.of("sh", "-c", "echo x > " + dir.resolve("probe")), Duration.ofSeconds(5)).ok(), "the disk is full");
    }

    void oomKill(int server) throws Exception {
        MemoryCgroup.killServer(users.tmux(alice), server, alice.uid(), "notes");
    }

    Children.Ran save() {
        Children.Ran r = Repo.script("t3-save.java", env);
        assertEquals(0, r.exit(), r.all());
        return r;
    }

    Children.Ran heal() {
        Children.Ran r = Repo.script("t3-restore.java", env, "--heal");
        assertEquals(0, r.exit(), r.all());
        return r;
    }

    Children.Ran restore(String... args) {
        Children.Ran r = Repo.script("t3-restore.java", env, args);
        assertEquals(0, r.exit(), r.all());
        return r;
    }

    Map<String, SavedSession> newest() throws Exception {
        return new StateStore(Path.of(env.get("T3_STATE_DIR"))).history(alice.name()).readNewest().rows().stream()
                .collect(Collectors.toMap(SavedSession::session, r -> r));
    }

    Set<String> live() {
        List<Tmux.LivePane> panes = users.tmux(alice).listPanes();
        return panes == null ? Set.of() : panes.stream().map(Tmux.LivePane::session).collect(Collectors.toCollection(TreeSet::new));
    }

    Optional<Procfs.Proc> claudeIn(String session) {
        List<Tmux.LivePane> panes = users.tmux(alice).listPanes();
        if (panes == null) return Optional.empty();
        Procfs procs = Procfs.read();
        return panes.stream().filter(p -> p.session().equals(session)).map(p -> new Conversations(procs, alice).claudeIn(p.pid()))
                .flatMap(Optional::stream).findFirst();
    }

    String conversationIn(String session) {
        Procfs.Proc c = claudeIn(session).orElseThrow(() -> new AssertionError(session + ": no claude"));
        return new Conversations(Procfs.read(), alice).of(c).orElseThrow().id();
    }
}
