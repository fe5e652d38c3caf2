import base.Accounts;
import base.Procfs;
import claude.Conversations;
import assistants.Assistants;
import base.Settings;
import keep.Kept;
import keep.PutBack;
import store.SavedSession;
import store.StateStore;
import tmux.Tmux;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A conversation's file kept against its assistant's own cleanup (claude deletes transcripts
 * untouched for 30 days): on real tmux servers of throwaway users running the fake claude, as
 * an operator runs the scripts. Kept after a save (a hard link where the state dir shares her
 * file system, else a root-only copy), put back as her when it is gone, then resumed; never a
 * symlink or a file past the bound; released once no kept snapshot names it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KeepTest {
    TestUsers users;
    Accounts.Account alice;
    Path state, proj;
    Map<String, String> env = new HashMap<>();

    @BeforeAll
    void setUp() throws Exception {
        assumeTrue(Accounts.isRoot(), "needs root to create OS users and run tmux as them; run the tests as root (CI does)");
        users = new TestUsers();
        alice = users.create();
        state = users.dir.resolve("state");
        env.putAll(users.operatorEnv(state, "a=" + alice.name() + "\n"));
        proj = alice.home().resolve("proj");
        Children.asUser(alice, "mkdir", "-p", proj.toString());
    }

    @AfterAll
    void tearDown() throws Exception {
        if (users != null) users.close();
    }

    Children.Ran save(Map<String, String> with) {
        Map<String, String> e = new HashMap<>(env);
        e.putAll(with);
        return Repo.script("t3-save.java", e);
    }

    Children.Ran restore(String... args) {
        return Repo.script("t3-restore.java", env, args);
    }

    /** Starts a session running the fake claude and returns its conversation once its live record names it. */
    String started(String session) throws Exception {
        users.newSession(alice, session, proj, users.claude());
        String[] id = new String[1];
        assertTrue(Children.waitFor(() -> (id[0] = conversationIn(session).orElse(null)) != null, Duration.ofSeconds(15)), "claude started in " + session);
        return id[0];
    }

    Optional<String> conversationIn(String session) {
        Procfs procs = Procfs.read();
        return users.tmux(alice).listSessions().sessions().stream().filter(s -> s.name().equals(session)).findFirst()
                .flatMap(s -> new Conversations(procs, alice).claudeIn(s.panePid()))
                .flatMap(p -> new Conversations(procs, alice).of(p)).map(c -> c.id());
    }

    Path transcript(String id) {
        return new Conversations(null, alice).transcript(alice.home().resolve(".claude"), id).orElse(null);
    }

    void crash() throws Exception {
        for (int i = 0; i < 20 && TestUsers.pkill("-KILL", alice) == 0; i++) Thread.sleep(100);
        assertTrue(Children.waitFor(() -> users.tmux(alice).socketState() != Tmux.SocketState.LIVE, Duration.ofSeconds(5)));
    }

    Kept kept(Path stateDir) {
        return Kept.read(new StateStore(stateDir), alice.name());
    }

    static Object inode(Path p) throws Exception {
        return Files.readAttributes(p, "unix:fileKey", LinkOption.NOFOLLOW_LINKS).get("fileKey");
    }

    static int uid(Path p) throws Exception {
        return (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    @Order(1)
    void aTranscriptDeletedAfterASaveComesBackAndResumes() throws Exception {
        String id = started("work");
        Path t = transcript(id);
        assertNotNull(t, "the fake claude wrote its transcript");
        users.type(alice, "work", "remember the plan");
        assertTrue(Children.waitFor(() -> { try { return Files.readString(t).contains("remember the plan"); } catch (Exception e) { return false; } },
                Duration.ofSeconds(5)));
        Children.Ran saved = save(Map.of());
        assertEquals(0, saved.exit(), saved.all());
        Kept.Entry e = kept(state).entry("claude", id).orElseThrow(() -> new AssertionError("kept after the save: " + saved.all()));
        Path copy = kept(state).file(e);
        assertEquals(Files.readString(t), Files.readString(copy), "the kept file holds the transcript");
        assertEquals(alice.home().resolve(".claude").relativize(t).toString(), e.path(), "where it goes back");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(copy.getParent())), "its folder is root-only");
        assertEquals(0, uid(copy.getParent()));
        boolean sameDisk = Files.getAttribute(t, "unix:dev").equals(Files.getAttribute(state, "unix:dev"));
        assertEquals(sameDisk, e.linked(), "a hard link exactly where the state dir shares her file system");
        if (sameDisk) assertEquals(inode(t), inode(copy), "an unchanged file costs nothing: the very inode");

        crash();
        String before = Files.readString(t);
        Children.asUser(alice, "rm", t.toString()); // as claude's cleanup does, 30 days on
        Children.Ran list = restore("--list", "--user", alice.name());
        assertEquals(0, list.exit(), list.all());
        assertTrue(list.out().lines().anyMatch(l -> l.matches("\\d{8}T\\d{6}Z .*") && List.of(l.split(" {2,}")).get(6).equals("1")),
                "--list counts it as kept: " + list.out());
        Children.Ran dry = restore("--dry-run", "--user", alice.name());
        assertTrue(dry.out().contains("t3's kept copy would go back to " + t), dry.all());
        assertFalse(Files.exists(t), "a dry run puts nothing back");

        Children.Ran r = restore();
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.all().contains("put t3's kept copy back at " + t), r.all());
        assertTrue(Files.isRegularFile(t, LinkOption.NOFOLLOW_LINKS), "back where claude looks for it");
        assertEquals(alice.uid(), uid(t), "hers, written as her");
        assertTrue(Files.readString(t).startsWith(before), "with what it held");
        assertTrue(Children.waitFor(() -> conversationIn("work").map(id::equals).orElse(false), Duration.ofSeconds(20)),
                "the conversation is resumed in its session");
    }

    @Test
    @Order(2)
    void onAnotherFileSystemTheCopyIsRootsOnly() throws Exception {
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && !Files.getAttribute(shm, "unix:dev").equals(Files.getAttribute(alice.home(), "unix:dev")),
                "needs /dev/shm on a file system of its own, to keep a copy rather than a link");
        Path elsewhere = Files.createTempDirectory(shm, "t3-keep-");
        try {
            String id = conversationIn("work").orElseThrow();
            Children.Ran r = save(Map.of("T3_STATE_DIR", elsewhere.resolve("state").toString()));
            assertEquals(0, r.exit(), r.all());
            Kept k = kept(elsewhere.resolve("state"));
            Kept.Entry e = k.entry("claude", id).orElseThrow(() -> new AssertionError(r.all()));
            assertFalse(e.linked());
            Path copy = k.file(e);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(copy, LinkOption.NOFOLLOW_LINKS)));
            assertEquals(0, uid(copy), "root's");
            assertEquals(Files.readString(transcript(id)), Files.readString(copy));
        } finally {
            Children.check("rm", "-rf", elsewhere.toString());
        }
    }

    @Test
    @Order(3)
    void aSymlinkOrAFilePastTheBoundIsNotKept() throws Exception {
        String linked = started("linked");
        String big = started("big");
        Path lt = transcript(linked), bt = transcript(big);
        // Her transcript swapped for a symlink to a file of root's; the other grown past a 1 MiB bound.
        Children.asUser(alice, "ln", "-sf", "/etc/shadow", lt.toString());
        Children.asUser(alice, "sh", "-c", "head -c 2000000 /dev/zero | tr '\\0' x >> \"$1\"", "sh", bt.toString());
        Children.Ran r = save(Map.of("T3_KEEP_CONVERSATIONS_MAX", "1"));
        assertEquals(0, r.exit(), r.all());
        Kept k = kept(state);
        assertTrue(k.entry("claude", linked).isEmpty(), "a symlink is not followed: " + k.entries());
        assertTrue(k.entry("claude", big).isEmpty(), "a file past the bound is not kept: " + k.entries());
        assertTrue(r.all().contains("not kept, over T3_KEEP_CONVERSATIONS_MAX (1 MiB)"), r.all());
        long total = 0;
        for (Kept.Entry e : k.entries()) total += Files.size(k.file(e));
        assertTrue(total <= 1 << 20, "the bound holds: " + total);
        try (var files = Files.list(k.dir())) {
            for (Path f : files.toList()) assertFalse(Files.readString(f).contains("root:"), "nothing of /etc/shadow is kept: " + f);
        }
    }

    @Test
    @Order(4)
    void releasedOnceNoKeptSnapshotNamesIt() throws Exception {
        String id = conversationIn("work").orElseThrow();
        assertTrue(kept(state).entry("claude", id).isPresent());
        users.newSession(alice, "other", proj, null);
        for (String s : List.of("work", "linked", "big")) assertTrue(users.tmux(alice).run("kill-session", "-t", "=" + s).ok(), s);
        // Retention down to the newest snapshot only: the ones naming 'work' go, and so does its kept file.
        Children.Ran r = save(Map.of("T3_KEEP", "1", "T3_KEEP_DAYS", "0"));
        assertEquals(0, r.exit(), r.all());
        List<SavedSession> newest = new StateStore(state).history(alice.name()).readNewest().rows();
        assertTrue(newest.stream().noneMatch(x -> x.session().equals("work")), "she closed it: " + newest);
        Kept k = kept(state);
        assertTrue(k.entry("claude", id).isEmpty(), "released: " + k.entries());
        try (var files = Files.list(k.dir())) {
            assertEquals(List.of(), files.toList(), "its file is gone from the state dir");
        }
    }

    /**
     * The hazard itself, by the real CLI: a saved transcript untouched for 40 days is swept by
     * the next claude of hers to start (offline, `claude -p` sweeps about 5 s after it starts:
     * FACTS), and a restore brings it back from the kept file and resumes it.
     */
    @Test
    @Order(6)
    void aTranscriptTheRealClaudeSweptComesBackAndResumes() throws Exception {
        RealAssistants.Install real = RealAssistants.of(RealAssistants.CLAUDE);
        assumeTrue(real.whyNot() == null, "the real Claude Code cannot run here: " + real.whyNot());
        String id = started("aged");
        Path t = transcript(id);
        Children.Ran saved = save(Map.of());
        assertEquals(0, saved.exit(), saved.all());
        assertTrue(kept(state).entry("claude", id).isPresent(), saved.all());
        crash();
        Children.asUser(alice, "touch", "-d", "40 days ago", t.toString());
        Children.asUser(alice, "mkdir", "-p", alice.home().resolve("tmp").toString());
        // Offline: a key that reaches no one, so it lives long enough to sweep, and exits.
        Children.Ran swept = Children.run(List.of("setsid", "setpriv", "--reuid=" + alice.uid(), "--regid=" + alice.gid(), "--init-groups", "--",
                "env", "-i", "HOME=" + alice.home(), "USER=" + alice.name(), "PATH=/usr/bin:/bin", "TMPDIR=" + alice.home().resolve("tmp"),
                "ANTHROPIC_API_KEY=sk-ant-dummy-000", "ANTHROPIC_BASE_URL=http://127.0.0.1:9", "CLAUDE_CODE_MAX_RETRIES=5",
                "timeout", "60", real.bin("claude").toString(), "-p", "hi"), Map.of(), alice.home(), Duration.ofSeconds(90));
        assertFalse(Files.exists(t, LinkOption.NOFOLLOW_LINKS), "the real claude swept the 40-day-old transcript (exit " + swept.exit() + "): " + swept.all());

        Children.Ran r = restore();
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.all().contains("put t3's kept copy back at " + t), r.all());
        assertEquals(alice.uid(), uid(t));
        assertTrue(Children.waitFor(() -> conversationIn("aged").map(id::equals).orElse(false), Duration.ofSeconds(20)),
                "the conversation is resumed in its session: " + r.all());
    }

    /** Heal too: a claude killed in its pane whose transcript is gone gets it back, and resumes in that pane. */
    @Test
    @Order(10)
    void healPutsTheKeptFileBackBeforeItResumesInThePane() throws Exception {
        // Undo the symlinked folder of the test before: a transcript kept through it would not be kept at all.
        Path projects = alice.home().resolve(".claude/projects"), moved = alice.home().resolve("elsewhere-projects");
        if (Files.isSymbolicLink(projects)) {
            Children.asUser(alice, "rm", projects.toString());
            Children.asUser(alice, "mv", moved.toString(), projects.toString());
        }
        users.newSession(alice, "heal", proj, null);
        Thread.sleep(500);
        users.type(alice, "heal", users.claude());
        String[] id = new String[1];
        assertTrue(Children.waitFor(() -> (id[0] = conversationIn("heal").orElse(null)) != null, Duration.ofSeconds(15)), "claude runs in heal");
        Path t = transcript(id[0]);
        Children.Ran saved = save(Map.of());
        assertEquals(0, saved.exit(), saved.all());
        assertTrue(kept(state).entry("claude", id[0]).isPresent(), saved.all());
        users.killClaude(alice, "heal");
        Children.asUser(alice, "rm", t.toString());
        Children.Ran r = Repo.script("t3-restore.java", env, "--heal");
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.all().contains("put t3's kept copy back at " + t) && r.all().contains("healed conversation " + id[0]), r.all());
        assertTrue(Children.waitFor(() -> conversationIn("heal").map(id[0]::equals).orElse(false), Duration.ofSeconds(15)), "resumed in its pane: " + r.all());
    }

    /** A file only t3 still has is never released for the bound: nothing could replace it. */
    @Test
    @Order(7)
    void aFileOnlyT3StillHasOutlivesALowerBound() throws Exception {
        String id = started("only");
        Path t = transcript(id);
        Children.asUser(alice, "sh", "-c", "head -c 2000000 /dev/zero | tr '\\0' x >> \"$1\"", "sh", t.toString());
        Children.Ran saved = save(Map.of());
        assertEquals(0, saved.exit(), saved.all());
        assertTrue(kept(state).entry("claude", id).isPresent(), saved.all());
        Children.asUser(alice, "rm", t.toString());
        Children.Ran r = save(Map.of("T3_KEEP_CONVERSATIONS_MAX", "1"));
        assertEquals(0, r.exit(), r.all());
        Kept k = kept(state);
        Kept.Entry e = k.entry("claude", id).orElseThrow(() -> new AssertionError("released for the bound: " + r.all()));
        assertTrue(Files.size(k.file(e)) >= 2_000_000, "whole");
        assertTrue(r.all().contains("only t3 still has take more than T3_KEEP_CONVERSATIONS_MAX"), r.all());
    }

    /** Off (0) releases everything; on again, what only older snapshots name is kept again, not just the newest's. */
    @Test
    @Order(8)
    void offReleasesEverythingAndOnAgainKeepsWhatOlderSnapshotsName() throws Exception {
        String id = started("older");
        assertEquals(0, save(Map.of()).exit());
        assertTrue(users.tmux(alice).run("kill-session", "-t", "=older").ok());
        assertEquals(0, save(Map.of()).exit());
        assertTrue(new StateStore(state).history(alice.name()).readNewest().rows().stream().noneMatch(x -> x.session().equals("older")));
        Children.Ran off = save(Map.of("T3_KEEP_CONVERSATIONS_MAX", "0"));
        assertEquals(0, off.exit(), off.all());
        assertFalse(Files.exists(new StateStore(state).keptIndex(alice.name())), off.all());
        try (var files = Files.list(kept(state).dir())) {
            assertEquals(List.of(), files.toList(), "every kept file released");
        }
        Children.Ran on = save(Map.of());
        assertEquals(0, on.exit(), on.all());
        assertTrue(kept(state).entry("claude", id).isPresent(), "kept again from the older snapshot that names it: " + on.all());
    }

    /** A folder on the way to her file that is a symlink: neither linked nor copied (link(2) would follow it). */
    @Test
    @Order(9)
    void aFileReachedThroughASymlinkedFolderIsNotKept() throws Exception {
        Path projects = alice.home().resolve(".claude/projects"), moved = alice.home().resolve("elsewhere-projects");
        Children.asUser(alice, "mv", projects.toString(), moved.toString());
        Children.asUser(alice, "ln", "-s", moved.toString(), projects.toString());
        String id = started("via-link");
        assertTrue(Files.exists(moved.resolve(alice.home().resolve("proj").toString().replace('/', '-')).resolve(id + ".jsonl"))
                || Files.list(moved).anyMatch(d -> Files.exists(d.resolve(id + ".jsonl"))), "the fake claude wrote it through the link");
        Children.Ran r = save(Map.of());
        assertEquals(0, r.exit(), r.all());
        assertTrue(kept(state).entry("claude", id).isEmpty(), "not kept through a symlinked folder: " + kept(state).entries());
    }

    /**
     * `--find` brings a conversation back as a restore does, its file put back first; and a file
     * that is there again when t3 goes to put its copy back (her claude made it meanwhile) is
     * hers: never overwritten, and said so.
     */
    @Test
    @Order(11)
    void findPutsTheFileBackAndAFileThereAgainIsNeverOverwritten() throws Exception {
        String id = started("found");
        Path t = transcript(id);
        Children.Ran saved = save(Map.of());
        assertEquals(0, saved.exit(), saved.all());
        assertTrue(kept(state).entry("claude", id).isPresent(), saved.all());
        crash();
        Children.asUser(alice, "rm", t.toString());
        Children.Ran r = restore("--user", alice.name(), "--find", id);
        assertEquals(0, r.exit(), r.all());
        assertTrue(r.all().contains("put t3's kept copy back at " + t), r.all());
        assertEquals(alice.uid(), uid(t));
        assertTrue(Children.waitFor(() -> conversationIn("found").map(id::equals).orElse(false), Duration.ofSeconds(20)),
                "--find resumed it in its session: " + r.all());

        // The race itself, put back straight into it: her file is there, with what she wrote since.
        Children.asUser(alice, "sh", "-c", "echo '{\"type\":\"user\",\"note\":\"hers\"}' >> \"$1\"", "sh", t.toString());
        String hers = Files.readString(t);
        Object inode = inode(t);
        PutBack putBack = PutBack.of(new StateStore(state), alice, Settings.from(env), false);
        Optional<PutBack.Back> back = putBack.back(Assistants.named("claude").orElseThrow(), alice.home().resolve(".claude"), id);
        assertTrue(back.isPresent(), "the conversation is there to resume");
        assertEquals("its file is there again", back.get().how());
        assertEquals(hers, Files.readString(t), "her file is not overwritten");
        assertEquals(inode, inode(t), "nor replaced");
        try (var files = Files.list(t.getParent())) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith(".t3-put-back.")), "no temporary file left beside it");
        }
    }

    /** A state dir of its own, and her server gone, so a test of the bound counts only what it made. */
    Map<String, String> freshState(String name) throws Exception {
        users.tmux(alice).run("kill-server");
        assertTrue(Children.waitFor(() -> users.tmux(alice).socketState() != Tmux.SocketState.LIVE, Duration.ofSeconds(5)));
        Map<String, String> e = new HashMap<>(env);
        e.put("T3_STATE_DIR", users.dir.resolve(name).toString());
        return e;
    }

    /** As {@link #freshState}, where t3 keeps hard links: the state dir on her file system (else the test is skipped, saying why). */
    Map<String, String> linkingState(String name) throws Exception {
        Map<String, String> e = freshState(name);
        Path st = Files.createDirectories(Path.of(e.get("T3_STATE_DIR")));
        assumeTrue(Files.getAttribute(st, "unix:dev").equals(Files.getAttribute(alice.home(), "unix:dev")),
                "needs the state dir on her file system, where t3 keeps hard links (copies are tested by onAnotherFileSystemTheCopyIsRootsOnly)");
        return e;
    }

    Children.Ran run(String script, Map<String, String> e, Map<String, String> with, String... args) {
        Map<String, String> all = new HashMap<>(e);
        all.putAll(with);
        return Repo.script(script, all, args);
    }

    /** Her transcript grown by {@code bytes}, written as her (the fake claude keeps appending to the same inode). */
    void grow(Path t, int bytes) throws Exception {
        Children.asUser(alice, "sh", "-c", "head -c " + bytes + " /dev/zero | tr '\\0' x >> \"$1\"", "sh", t.toString());
    }

    static long keptBytes(Kept k) throws Exception {
        long total = 0;
        for (Kept.Entry e : k.entries()) total += Files.size(k.file(e));
        return total;
    }

    /**
     * The bound holds where the kept files are hard links: a link costs nothing while she has her
     * file, but claude's sweep leaves it the only copy, so it counts as one. Three 0.6 MiB
     * transcripts under a 1 MiB bound: one is kept; once all three are swept, what t3 holds is
     * still within the bound, and `--list`, `--list --json` and `--dry-run` name the two lost.
     */
    @Test
    @Order(12)
    void theBoundHoldsWithHardLinksOnceClaudeSweepsHerFiles() throws Exception {
        Map<String, String> e = linkingState("state-links");
        Path st = Path.of(e.get("T3_STATE_DIR"));
        Map<String, String> bound = Map.of("T3_KEEP_CONVERSATIONS_MAX", "1");
        List<String> ids = new java.util.ArrayList<>();
        for (String s : List.of("b1", "b2", "b3")) {
            String id = started(s);
            grow(transcript(id), 600_000);
            ids.add(id);
        }
        Children.Ran first = run("t3-save.java", e, bound);
        assertEquals(0, first.exit(), first.all());
        Kept k = kept(st);
        assertEquals(1, k.entries().size(), "one 0.6 MiB file fits in 1 MiB, links counted: " + k.entries() + "\n" + first.all());
        assertTrue(k.entries().iterator().next().linked(), "kept as a hard link");
        assertTrue(first.all().contains("2 conversation file(s) not kept, over T3_KEEP_CONVERSATIONS_MAX (1 MiB)"), first.all());
        String keptId = k.entries().iterator().next().id();

        for (String id : ids) Children.asUser(alice, "rm", transcript(id).toString()); // claude's sweep
        users.newSession(alice, "nudge", proj, null); // a save that writes a snapshot, so the keeping pass runs now
        Children.Ran second = run("t3-save.java", e, bound);
        assertEquals(0, second.exit(), second.all());
        k = kept(st);
        assertEquals(List.of(keptId), k.entries().stream().map(Kept.Entry::id).toList(), second.all());
        assertTrue(keptBytes(k) <= 1 << 20, "the bound holds once t3 alone has them: " + keptBytes(k));
        assertFalse(second.all().contains("only t3 still has take more"), second.all());

        List<String> lost = ids.stream().filter(id -> !id.equals(keptId)).toList();
        Children.Ran list = run("t3-restore.java", e, Map.of(), "--list", "--user", alice.name());
        assertEquals(0, list.exit(), list.all());
        List<String> newest = List.of(list.out().lines().filter(l -> l.matches("\\d{8}T\\d{6}Z .*")).findFirst().orElseThrow().split(" {2,}"));
        assertEquals(List.of("1", "2"), newest.subList(6, 8), "KEPT 1, LOST 2 in the newest snapshot: " + list.out());
        assertTrue(list.all().contains("2 saved conversation(s) are gone and t3 kept no copy"), list.all());
        Children.Ran json = run("t3-restore.java", e, Map.of(), "--list", "--json", "--user", alice.name());
        assertEquals(0, json.exit(), json.all());
        var rows = base.Json.MAPPER.readTree(json.out());
        assertEquals(List.of(keptId), ids(rows.get(0).path("kept")));
        assertEquals(new java.util.TreeSet<>(lost), new java.util.TreeSet<>(ids(rows.get(0).path("lost"))), json.out());

        crash();
        Children.Ran dry = run("t3-restore.java", e, Map.of(), "--dry-run", "--user", alice.name());
        assertEquals(0, dry.exit(), dry.all());
        assertTrue(dry.out().lines().anyMatch(l -> l.contains("t3's kept copy would go back to ") && l.contains(keptId + ".jsonl")), dry.all());
        assertEquals(2, dry.out().lines().filter(l -> l.contains("t3 kept no copy of it")).count(), dry.all());
    }

    static List<String> ids(com.fasterxml.jackson.databind.JsonNode array) {
        List<String> out = new java.util.ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /**
     * A lowered bound releases a file she still has that only an older snapshot names, before
     * the newest snapshot's conversations, and does not take it for one only t3 has.
     */
    @Test
    @Order(13)
    void aLoweredBoundReleasesAFileOnlyOlderSnapshotsName() throws Exception {
        Map<String, String> e = freshState("state-lowered");
        String old = started("old");
        grow(transcript(old), 600_000);
        Children.Ran first = run("t3-save.java", e, Map.of());
        assertEquals(0, first.exit(), first.all());
        assertTrue(kept(Path.of(e.get("T3_STATE_DIR"))).entry("claude", old).isPresent(), first.all());

        assertTrue(users.tmux(alice).run("kill-session", "-t", "=old").ok());
        String young = started("young");
        grow(transcript(young), 600_000);
        Children.Ran lowered = run("t3-save.java", e, Map.of("T3_KEEP_CONVERSATIONS_MAX", "1"));
        assertEquals(0, lowered.exit(), lowered.all());
        Kept k = kept(Path.of(e.get("T3_STATE_DIR")));
        assertTrue(k.entry("claude", young).isPresent(), "the newest snapshot's conversation first: " + k.entries() + "\n" + lowered.all());
        assertTrue(k.entry("claude", old).isEmpty(), "she still has it, and it no longer fits: released " + k.entries());
        assertTrue(keptBytes(k) <= 1 << 20, "within the bound: " + keptBytes(k));
        assertTrue(lowered.all().contains("1 conversation file(s) not kept, over T3_KEEP_CONVERSATIONS_MAX (1 MiB)"), lowered.all());
        assertFalse(lowered.all().contains("only t3 still has"), "it is hers still, not only t3's: " + lowered.all());
        assertTrue(Files.isRegularFile(transcript(old)), "her own file is untouched");
    }

    /** No one file past 256 MiB is kept, a hard link to one that grew there (sparse: it takes no disk) included. */
    @Test
    @Order(14)
    void aLinkedFileGrownPastTheFileBoundIsReleased() throws Exception {
        Map<String, String> e = linkingState("state-file-max");
        Path st = Path.of(e.get("T3_STATE_DIR"));
        String id = started("grows");
        Children.Ran first = run("t3-save.java", e, Map.of());
        assertEquals(0, first.exit(), first.all());
        assertTrue(kept(st).entry("claude", id).map(Kept.Entry::linked).orElse(false), "kept as a hard link: " + first.all());
        Path t = transcript(id);
        Children.asUser(alice, "truncate", "-s", "300M", t.toString());
        users.newSession(alice, "nudge", proj, null);
        Children.Ran r = run("t3-save.java", e, Map.of());
        assertEquals(0, r.exit(), r.all());
        assertTrue(kept(st).entry("claude", id).isEmpty(), "past 256 MiB a file: released " + kept(st).entries());
        assertTrue(r.all().contains("or 256 MiB a file (she still has them)"), r.all());
        try (var files = Files.list(kept(st).dir())) {
            assertEquals(List.of(), files.toList(), "no link to it is left");
        }
        assertEquals(300L << 20, Files.size(t), "her file is as she left it");
    }

    @Test
    @Order(5)
    void anIndexEntryThatPointsOutOfHerHomeIsDropped() throws Exception {
        StateStore store = new StateStore(state);
        store.writeOwn(store.keptIndex(alice.name()), """
                {"checked":0,"files":[
                 {"assistant":"claude","id":"3f2a1b2c-0000-4000-8000-000000000001","home":"/home/x/.claude","path":"../../etc/cron.d/x","size":1,"modified":0,"inode":"","linked":false,"seen":"20261124T193000Z"},
                 {"assistant":"claude","id":"3f2a1b2c-0000-4000-8000-000000000002","home":"/home/x/.claude","path":"/etc/passwd","size":1,"modified":0,"inode":"","linked":false,"seen":"20261124T193000Z"},
                 {"assistant":"claude","id":"3f2a1b2c-0000-4000-8000-000000000003","home":"/home/x/.claude","path":"projects/p/3f2a1b2c-0000-4000-8000-000000000003.jsonl","size":1,"modified":0,"inode":"","linked":false,"seen":"20261124T193000Z"}
                ]}""");
        Kept k = Kept.read(store, alice.name());
        assertEquals(List.of("claude 3f2a1b2c-0000-4000-8000-000000000003"), k.entries().stream().map(Kept.Entry::key).toList());
        assertEquals(Optional.of(Path.of("/home/alice/.claude/projects/p/3f2a1b2c-0000-4000-8000-000000000003.jsonl")),
                k.entries().iterator().next().below(Path.of("/home/alice/.claude")));
    }
}
