import static org.junit.jupiter.api.Assertions.*;

import assistant.Conversation;
import base.Accounts;
import base.Procfs;
import gemini.Gemini;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which Gemini CLI conversation a process holds, through the real /proc: a stand-in (coreutils'
 * tail named {@code node}, running a path named {@code gemini}, as the real one's argv reads) and
 * chat files written as Gemini 0.61.0 writes them (FACTS). The real CLI end to end: GeminiCliTest.
 */
class GeminiTest {
    @TempDir Path home;
    Path work, data;
    Accounts.Account me;
    StandIn standIns;

    @BeforeEach
    void setUp() throws Exception {
        work = Files.createDirectories(home.resolve("gem work")).toRealPath();
        data = Files.createDirectories(home.resolve(".gemini"));
        me = TestUsers.me(home);
        standIns = new StandIn(home.resolve("bin"));
    }

    @AfterEach
    void stop() {
        standIns.close();
    }

    static String sha256(Path dir) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(dir.toString().getBytes(StandardCharsets.UTF_8)));
    }

    /** A chat file as Gemini writes it: tmp/<slug>/chats/session-<UTC minute>-<8 of id>.jsonl, the header, then (unless a stray) a message. */
    Path chat(String id, Instant startTime, Path cwd, boolean headerOnly) throws Exception {
        Path project = Files.createDirectories(data.resolve("tmp").resolve(cwd.getFileName().toString().replace(' ', '-')));
        Files.writeString(project.resolve(".project_root"), cwd.toString());
        var t = startTime.atOffset(ZoneOffset.UTC);
        Path f = Files.createDirectories(project.resolve("chats")).resolve(String.format("session-%04d-%02d-%02dT%02d-%02d-%s.jsonl",
                t.getYear(), t.getMonthValue(), t.getDayOfMonth(), t.getHour(), t.getMinute() + (headerOnly ? 1 : 0), id.substring(0, 8)));
        Files.writeString(f, "{\"sessionId\":\"" + id + "\",\"projectHash\":\"" + sha256(cwd) + "\",\"startTime\":\"" + startTime
                + "\",\"lastUpdated\":\"" + startTime + "\",\"kind\":\"main\"}\n" + (headerOnly ? "" : "{\"$set\":{\"messages\":[]}}\n"));
        return f;
    }

    /** The stand-in: comm node, argv node -F <.../bin/gemini>: what is() reads; tail follows a file that is not there, for ever. */
    Procfs.Proc gemini(Path cwd) throws Exception {
        return standIns.start("node", cwd, java.util.Map.of(), List.of("-F", home.resolve("lib/node_modules/.bin/gemini").toString()));
    }

    Optional<Conversation> of(Procfs.Proc p) {
        assertTrue(Gemini.INSTANCE.is(p), p.toString());
        return Gemini.INSTANCE.conversation(Procfs.read(), me, p);
    }

    static String id() {
        return UUID.randomUUID().toString();
    }

    @Test
    void theOneChatItsProjectStartedWithItIsItsConversation() throws Exception {
        Procfs.Proc p = gemini(work);
        String mine = id();
        Instant at = Procfs.read().startTime(p);
        chat(id(), at.minusSeconds(600), work, false); // before it started
        chat(id(), at.plusSeconds(2), home, false); // another project
        chat(mine, at.plusSeconds(2), work, false);
        Conversation c = of(p).orElseThrow();
        assertEquals(mine, c.id());
        assertEquals(Conversation.Source.FILE, c.source());
        assertEquals(work, c.startDir());
    }

    @Test
    void twoStartedTogetherInOneDirectoryGetNone() throws Exception {
        Procfs.Proc a = gemini(work), b = gemini(work);
        chat(id(), Procfs.read().startTime(a).plusSeconds(2), work, false);
        chat(id(), Procfs.read().startTime(b).plusSeconds(2), work, false);
        assertEquals(Optional.empty(), of(a));
        assertEquals(Optional.empty(), of(b));
    }

    @Test
    void theConversationIsTheFileOfItsIdThatHoldsMoreThanAHeaderInItsProjectsDirectory() throws Exception {
        String id = id();
        Instant t = Instant.now().minusSeconds(3600);
        chat(id, t.plusSeconds(60), work, true); // a resume's stray: its header only
        assertEquals(Optional.empty(), Gemini.INSTANCE.stored(me, home, id), "a header is no conversation to resume");
        chat(id, t, work, false);
        var s = Gemini.INSTANCE.stored(me, home, id).orElseThrow();
        assertEquals(work, s.startDir(), "from .project_root, checked against the project's hash");
        Files.writeString(data.resolve("tmp/gem-work/.project_root"), "/etc");
        assertNull(Gemini.INSTANCE.stored(me, home, id).orElseThrow().startDir(), "a .project_root its hash does not match says nothing");
    }

    @Test
    void argvAndProcessesAreReadAsGeminiRuns() {
        String id = id();
        assertEquals(Optional.of(id), Gemini.idInArgv(List.of("node", "/p/.bin/gemini", "--resume", id)));
        assertEquals(Optional.of(id), Gemini.idInArgv(List.of("node", "/p/.bin/gemini", "--session-id=" + id)));
        assertEquals(Optional.empty(), Gemini.idInArgv(List.of("node", "/p/.bin/gemini", "--resume", "latest")));
        assertTrue(Gemini.INSTANCE.is(new Procfs.Proc(1, 0, 0, "node", List.of("/usr/bin/node", "--max-old-space-size=12052", "/p/node_modules/.bin/gemini"), 0, 0)),
                "the relaunched child, node options first");
        assertTrue(Gemini.INSTANCE.is(new Procfs.Proc(1, 0, 0, "node", List.of("node", "/usr/lib/node_modules/@google/gemini-cli/bundle/gemini.js"), 0, 0)));
        assertFalse(Gemini.INSTANCE.is(new Procfs.Proc(1, 0, 0, "node", List.of("node", "/srv/app/server.js"), 0, 0)));
        assertEquals(List.of("--model", "gemini-2.5-pro"), Gemini.INSTANCE.carried(List.of("gemini", "--model", "gemini-2.5-pro", "--yolo", "-p", "x")));
    }
}
