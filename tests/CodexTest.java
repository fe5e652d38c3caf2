import static org.junit.jupiter.api.Assertions.*;

import assistant.Conversation;
import base.Accounts;
import base.Procfs;
import codex.Codex;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which Codex conversation a process holds, through the real /proc: a stand-in TUI (coreutils'
 * tail under the name {@code codex}: comm codex and an argv of our choosing, as the native TUI's,
 * following the files it is given, so it holds them open) and rollout files written as Codex
 * 0.169.0 writes them (FACTS; first line as observed). The real CLI's end to end: CodexCliTest.
 */
class CodexTest {
    @TempDir Path home;
    Path codexHome, work;
    Accounts.Account me;
    StandIn standIns;

    @BeforeEach
    void setUp() throws Exception {
        work = Files.createDirectories(home.resolve("api project")).toRealPath();
        codexHome = Files.createDirectories(home.resolve(".codex")).toRealPath();
        me = TestUsers.me(home);
        standIns = new StandIn(home.resolve("bin"));
    }

    @AfterEach
    void stop() {
        standIns.close();
    }

    /** A rollout as Codex writes it: sessions/YYYY/MM/DD (here UTC) / rollout-<time>-<id>.jsonl, session_meta first. */
    Path rollout(String id, Instant created, Path cwd) throws Exception {
        return rollout(id, created, cwd, "codex-tui", "user");
    }

    Path rollout(String id, Instant created, Path cwd, String originator, String threadSource) throws Exception {
        var t = created.atOffset(ZoneOffset.UTC);
        Path day = Files.createDirectories(codexHome.resolve(String.format("sessions/%04d/%02d/%02d", t.getYear(), t.getMonthValue(), t.getDayOfMonth())));
        Path f = day.resolve(String.format("rollout-%04d-%02d-%02dT%02d-%02d-%02d-%s.jsonl", t.getYear(), t.getMonthValue(), t.getDayOfMonth(),
                t.getHour(), t.getMinute(), t.getSecond(), id));
        Files.writeString(f, "{\"timestamp\":\"" + created + "\",\"ordinal\":0,\"type\":\"session_meta\",\"payload\":{\"account_scoped\":true,"
                + "\"session_id\":\"" + id + "\",\"id\":\"" + id + "\",\"timestamp\":\"" + created + "\",\"cwd\":\"" + cwd + "\","
                + "\"originator\":\"" + originator + "\",\"cli_version\":\"0.169.0\",\"source\":\"vscode\",\"thread_source\":\"" + threadSource
                + "\",\"base_instructions\":{\"text\":\""
                + "x".repeat(200_000) + "\"}}}\n{\"type\":\"event_msg\"}\n");
        return f;
    }

    /** A stand-in TUI in {@code cwd}: comm codex, CODEX_HOME set, holding {@code open} open when given. */
    Procfs.Proc tui(Path cwd, Path open) throws Exception {
        return tui(cwd, open, List.of("-F", open == null ? "/dev/null" : open.toString()));
    }

    /** The stand-in with these arguments (tail's: -F and files to follow, missing ones retried for ever). */
    Procfs.Proc tui(Path cwd, Path open, List<String> args) throws Exception {
        Procfs.Proc p = standIns.start("codex", cwd, java.util.Map.of("CODEX_HOME", codexHome.toString()), args);
        if (open != null) assertTrue(Children.waitFor(() -> Procfs.read().openFiles(p.pid()).contains(open), Duration.ofSeconds(5)));
        return p;
    }

    Optional<Conversation> of(Procfs.Proc p) {
        Procfs procs = Procfs.read();
        assertTrue(Codex.INSTANCE.is(p), "a TUI of codex: " + p);
        return Codex.INSTANCE.conversation(procs, me, p);
    }

    static String id() {
        return idAt(Instant.now());
    }

    /** A UUIDv7, as Codex gives a thread: its first 48 bits the time it was made. */
    static String idAt(Instant made) {
        UUID r = UUID.randomUUID();
        long hi = (made.toEpochMilli() << 16) | 0x7000L | (r.getMostSignificantBits() & 0x0fffL);
        long lo = (r.getLeastSignificantBits() & 0x3fffffffffffffffL) | 0x8000000000000000L;
        return new UUID(hi, lo).toString();
    }

    @Test
    void theRolloutItsTuiHoldsOpenIsItsConversationMostCertainOfAll() throws Exception {
        String older = id(), held = idAt(Instant.now().minusSeconds(3600));
        rollout(older, Instant.now(), work);
        Path file = rollout(held, Instant.now().minusSeconds(3600), home); // made elsewhere an hour ago, resumed here
        Conversation c = of(tui(work, file)).orElseThrow();
        assertEquals(held, c.id());
        assertEquals(Conversation.Source.RECORD, c.source());
        assertEquals(home.toRealPath(), c.startDir(), "where the thread started, from its first line, read past a 200 kB field it need not read");
        assertEquals(codexHome, c.home());
    }

    @Test
    void theOneThreadMadeAtItsStartInItsCwdIsItsConversation() throws Exception {
        Procfs.Proc p = tui(work, null);
        Instant at = Procfs.read().startTime(p).plusSeconds(10);
        String mine = idAt(at);
        rollout(idAt(Instant.now().minusSeconds(600)), Instant.now().minusSeconds(600), work); // before it started: another's
        rollout(idAt(at), at, home); // another directory
        rollout(idAt(at), at, work, "codex_exec", "user"); // codex exec's, in its window: not a TUI's thread
        rollout(idAt(at), at, work, "codex-tui", "subagent"); // a sub-agent's
        rollout(mine, at, work);
        Conversation c = of(p).orElseThrow();
        assertEquals(mine, c.id());
        assertEquals(Conversation.Source.FILE, c.source());
        assertEquals(work, c.startDir());
    }

    @Test
    void twoStartedTogetherInOneDirectoryGetNoneNeverAGuess() throws Exception {
        Procfs.Proc a = tui(work, null), b = tui(work, null);
        Instant ta = Procfs.read().startTime(a).plusSeconds(5), tb = Procfs.read().startTime(b).plusSeconds(6);
        rollout(idAt(ta), ta, work);
        rollout(idAt(tb), tb, work);
        assertEquals(Optional.empty(), of(a), "either thread could be a's");
        assertEquals(Optional.empty(), of(b));
    }

    @Test
    void aCodexStartedToResumeMakesNoThreadAtItsStartSoItIsNoRival() throws Exception {
        Procfs.Proc p = tui(work, null);
        String theirs = id();
        Procfs.Proc resumed = tui(work, null, List.of("-F", "resume", theirs));
        assertEquals(Optional.of(theirs), of(resumed).map(Conversation::id), "its own, by argv");
        Instant at = Procfs.read().startTime(p).plusSeconds(3);
        String mine = idAt(at);
        rollout(mine, at, work);
        assertEquals(Optional.of(mine), of(p).map(Conversation::id));
    }

    @Test
    void argvAndSubcommandsAreReadAsCodexDoes() {
        String id = id();
        assertEquals(Optional.of(id), Codex.resumedArgv(List.of("/x/codex", "--no-daemon", "-m", "gpt-5", "resume", id)));
        assertEquals(Optional.of(id), Codex.resumedArgv(List.of("/x/codex", "resume", "-m", "gpt-5", id)), "options after resume too");
        assertEquals(Optional.empty(), Codex.resumedArgv(List.of("/x/codex", "resume", "--last")));
        assertEquals(Optional.empty(), Codex.resumedArgv(List.of("/x/codex", "fix the bug", "resume", id)), "a prompt, not a subcommand");
        assertFalse(Codex.INSTANCE.is(new Procfs.Proc(1, 0, 0, "codex", List.of("/h/.codex/packages/x/codex", "app-server", "--managed-daemon"), 0, 0)),
                "the daemon holds every thread: it is no pane's TUI");
        assertFalse(Codex.INSTANCE.is(new Procfs.Proc(1, 0, 0, "codex", List.of("codex", "exec", "do it"), 0, 0)));
        assertTrue(Codex.INSTANCE.is(new Procfs.Proc(1, 0, 0, "codex", List.of("/v/bin/codex", "-c", "model=x", "resume", id), 0, 0)));
        assertFalse(Codex.INSTANCE.is(new Procfs.Proc(1, 0, 0, "node", List.of("node", "/p/.bin/codex"), 0, 0)),
                "the node wrapper: its child, the native TUI, is the one read");
        assertEquals(List.of("--no-daemon", "-m", "gpt-5"), Codex.INSTANCE.carried(List.of("codex", "--no-daemon", "-c", "x=1", "-m", "gpt-5", "resume", id)),
                "the model and --no-daemon are carried; a config override is not");
    }

    @Test
    void storedFindsTheRolloutByIdInTheDaysItsTimeNamesAndNeverThroughASymlink() throws Exception {
        String id = id();
        Path f = rollout(id, Instant.now(), work);
        var s = Codex.INSTANCE.stored(me, codexHome, id).orElseThrow();
        assertEquals(work, s.startDir());
        Path moved = home.resolve("elsewhere.jsonl");
        Files.move(f, moved);
        Files.createSymbolicLink(f, moved);
        assertEquals(Optional.empty(), Codex.INSTANCE.stored(me, codexHome, id), "a symlink is not her rollout");
        Files.delete(f);
        assertTrue(Codex.INSTANCE.gone(codexHome).contains(codexHome.resolve("sessions").toString()));
    }
}
