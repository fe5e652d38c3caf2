import static org.junit.jupiter.api.Assertions.*;

import assistant.Conversation;
import base.Accounts;
import base.Procfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import opencode.OpenCode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which OpenCode session a process holds, through the real /proc and a real SQLite database in
 * WAL mode whose newest rows are still in its WAL (an open connection keeps them there, as a
 * running OpenCode does): a stand-in TUI (coreutils' tail named {@code opencode}: comm and argv
 * as the native binary's) and the {@code session} table as OpenCode 1.18.33 has it.
 */
class OpenCodeTest {
    @TempDir Path home;
    Path work, other, data;
    Accounts.Account me;
    Connection db;
    StandIn standIns;

    @BeforeEach
    void setUp() throws Exception {
        work = Files.createDirectories(home.resolve("web app")).toRealPath();
        other = Files.createDirectories(home.resolve("other")).toRealPath();
        data = Files.createDirectories(home.resolve(".local/share/opencode"));
        me = TestUsers.me(home);
        standIns = new StandIn(home.resolve("bin"));
        db = DriverManager.getConnection("jdbc:sqlite:" + data.resolve("opencode.db"));
        try (Statement s = db.createStatement()) {
            s.execute("pragma journal_mode=wal");
            s.execute("pragma wal_autocheckpoint=0"); // the rows stay in the WAL, as while OpenCode runs
            s.execute("create table session (id text primary key, project_id text not null, parent_id text, slug text not null, directory text not null,"
                    + " title text not null, version text not null, time_created integer not null, time_updated integer not null)");
        }
    }

    @AfterEach
    void stop() throws Exception {
        standIns.close();
        db.close();
    }

    static String id() {
        String abc = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        StringBuilder b = new StringBuilder("ses_");
        Random r = new Random();
        for (int i = 0; i < 26; i++) b.append(abc.charAt(r.nextInt(abc.length())));
        return b.toString();
    }

    String session(Path dir, Instant created, Instant updated, String parent) throws Exception {
        String id = id();
        try (var q = db.prepareStatement("insert into session values (?, 'global', ?, 'x', ?, 'New session', '1.18.33', ?, ?)")) {
            q.setString(1, id);
            q.setString(2, parent);
            q.setString(3, dir.toString());
            q.setLong(4, created.toEpochMilli());
            q.setLong(5, updated.toEpochMilli());
            q.executeUpdate();
        }
        return id;
    }

    Procfs.Proc tui(Path cwd) throws Exception {
        return standIns.start("opencode", cwd, java.util.Map.of(), List.of("-F", "/dev/null"));
    }

    Optional<Conversation> of(Procfs.Proc p) {
        assertTrue(OpenCode.INSTANCE.is(p), p.toString());
        return OpenCode.INSTANCE.conversation(Procfs.read(), me, p);
    }

    @Test
    void theOneSessionMadeInItsDirectorySinceItStartedIsItsOwnAndTwoAreNobodysGuess() throws Exception {
        Procfs.Proc p = tui(work);
        Instant t = Procfs.read().startTime(p);
        session(work, t.minusSeconds(600), t.plusSeconds(50), null); // older: someone's before it
        session(other, t.plusSeconds(2), t.plusSeconds(60), null); // another directory
        String first = session(work, t.plusSeconds(2), t.plusSeconds(5), null);
        session(work, t.plusSeconds(3), t.plusSeconds(90), first); // a sub-session of its own: not a conversation to resume
        Conversation c = of(p).orElseThrow();
        assertEquals(first, c.id(), "read from the WAL, where OpenCode's newest rows are");
        assertEquals(Conversation.Source.FILE, c.source());
        assertEquals(work, c.startDir());
        assertEquals(Optional.of(work), OpenCode.INSTANCE.stored(me, home.resolve(".local/share"), first).map(s -> s.startDir()));
        assertEquals(Optional.of("New session"), OpenCode.INSTANCE.title(me, home.resolve(".local/share"), first), "its title, for the picker");
        // A second one made there since (a /new, an `opencode run`, one that ended): nothing says whose.
        session(work, t.plusSeconds(20), t.plusSeconds(30), null);
        Thread.sleep(5200); // a read is kept 5 s for a save's other processes: past that, the change is seen
        assertEquals(Optional.empty(), OpenCode.INSTANCE.conversation(Procfs.read(), me, p), "two made since it started: either could be someone else's");
    }

    @Test
    void aSessionMadeWhileTwoRanInOneDirectoryIsNobodysGuess() throws Exception {
        Procfs.Proc a = tui(work);
        Instant ta = Procfs.read().startTime(a);
        String beforeB = session(work, ta.plusMillis(200), ta.plusSeconds(1), null);
        Thread.sleep(400); // b starts after that row was made, by more than a start time's doubt
        Procfs.Proc b = tui(work);
        Instant tb = Procfs.read().startTime(b);
        assertEquals(Optional.of(beforeB), of(a).map(Conversation::id), "made before b started: only a's");
        session(work, tb.plusSeconds(1), tb.plusSeconds(2), null);
        Thread.sleep(5200); // past the read a save keeps for its other processes
        assertEquals(Optional.empty(), of(b), "made while both ran there: either's");
        assertEquals(Optional.empty(), of(a), "and a may have made it (a /new): a names none now rather than guess");
    }

    @Test
    void aDatabaseThatIsASymlinkIsNotRead() throws Exception {
        Procfs.Proc p = tui(work);
        session(work, Procfs.read().startTime(p).plusSeconds(1), Instant.now(), null);
        db.close();
        Path real = home.resolve("elsewhere.db");
        Files.move(data.resolve("opencode.db"), real);
        Files.createSymbolicLink(data.resolve("opencode.db"), real);
        db = DriverManager.getConnection("jdbc:sqlite::memory:");
        assertThrows(assistant.CannotTell.class, () -> of(p), "not read: not known (never taken for no session)");
    }

    @Test
    void aDatabaseWhoseSessionsAreAViewOrComputedIsNotReadItIsNotKnown() throws Exception {
        Procfs.Proc p = tui(work);
        try (Statement s = db.createStatement()) {
            s.execute("drop table session");
            // A view that never ends: reading it would hold root's save for ever.
            s.execute("create view session as with recursive c(x) as (select 1 union all select x + 1 from c)"
                    + " select 'ses_aaaaaaaaaaaaaaaaaaaaaaaa' id, '/tmp' directory, x time_created, x time_updated, null parent_id from c");
        }
        long t0 = System.nanoTime();
        assertThrows(assistant.CannotTell.class, () -> OpenCode.INSTANCE.conversation(Procfs.read(), me, p));
        assertTrue(System.nanoTime() - t0 < 10_000_000_000L, "refused, not run");
        try (Statement s = db.createStatement()) {
            s.execute("drop view session");
            s.execute("create table session (id text, parent_id text, directory text, time_created integer, time_updated integer,"
                    + " big text generated always as (printf('%.*c', 100000000, 'x')) virtual)");
        }
        Thread.sleep(5200);
        assertThrows(assistant.CannotTell.class, () -> OpenCode.INSTANCE.conversation(Procfs.read(), me, p), "a computed column is SQL of hers too");
        assertEquals(Optional.empty(), new assistants.Running(Procfs.read(), me).all().values().stream().filter(x -> x.pid() == p.pid()).findFirst(),
                "not known is not running, and no exception leaves the look at what runs");
    }

    @Test
    void aMassRestoreLeavesRoomInTmpForWhatEachStartLeavesThere() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(Accounts.isRoot(), "mounting a small tmpfs needs root; run the tests as root (CI does)");
        Path small = Files.createDirectories(home.resolve("small-tmp"));
        var mount = base.Exec.run(List.of("mount", "-t", "tmpfs", "-o", "size=64m", "t3-test-tmp", small.toString()), Duration.ofSeconds(10));
        org.junit.jupiter.api.Assumptions.assumeTrue(mount.ok(), "cannot mount a tmpfs here (" + mount.firstErrorLine() + ")");
        try {
            String why = restore.Resumer.tmpTooSmall("opencode", small);
            assertNotNull(why, "64 MiB: no room for another 20 MiB and the spare the rest of the machine needs");
            assertTrue(why.contains("opencode start leaves about 20 MiB"), why);
            assertNull(restore.Resumer.tmpTooSmall("claude", small), "claude leaves nothing there");
        } finally {
            base.Exec.run(List.of("umount", small.toString()), Duration.ofSeconds(10));
        }
    }

    @Test
    void argvAndProcessesAreReadAsOpenCodeRuns() {
        String id = id();
        assertEquals(Optional.of(id), OpenCode.sessionInArgv(List.of("/p/.bin/opencode", "-s", id)));
        assertEquals(Optional.of(id), OpenCode.sessionInArgv(List.of("opencode", "--session=" + id)));
        assertEquals(Optional.empty(), OpenCode.sessionInArgv(List.of("opencode", "-s", id, "--fork")), "a fork is a new session");
        assertEquals(Optional.empty(), OpenCode.sessionInArgv(List.of("opencode", "-s", "../../etc")));
        assertFalse(OpenCode.INSTANCE.is(new Procfs.Proc(1, 0, 0, "opencode", List.of("opencode", "serve"), 0, 0)));
        assertTrue(OpenCode.INSTANCE.is(new Procfs.Proc(1, 0, 0, "opencode.exe", List.of("/x/opencode.exe", "/home/a/proj"), 0, 0)));
        assertTrue(OpenCode.INSTANCE.isId(id));
        assertFalse(OpenCode.INSTANCE.isId("0b9c5a59-43a5-4f5b-9d0e-7c8f2b4d1e6a"));
    }
}
