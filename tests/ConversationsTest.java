import base.Accounts;
import assistant.Conversation;
import claude.Conversations;
import claude.LiveRecords;
import base.Procfs;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which conversation a real (fake-claude) process runs, found through the real /proc. */
class ConversationsTest {
    @TempDir Path home;
    Path work;
    Accounts.Account me;

    @BeforeEach
    void setUp() throws Exception {
        work = Files.createDirectories(home.resolve("my project.d"));
        me = TestUsers.me(home);
    }

    Optional<Conversation> resolve(FakeClaude f) {
        Procfs procs = Procfs.read();
        Conversations c = new Conversations(procs, me);
        Procfs.Proc p = c.claudeIn(f.pid()).orElseThrow(() -> new AssertionError("no claude process found at pid " + f.pid()));
        return c.of(p);
    }

    @Test
    void liveRecordGivesTheIdAndTheTranscriptGivesTheStartDir() throws Exception {
        try (FakeClaude f = FakeClaude.start(work, home)) {
            Conversation c = resolve(f).orElseThrow();
            assertEquals(f.currentId(), c.id());
            assertEquals(Conversation.Source.RECORD, c.source());
            assertEquals(work.toRealPath(), c.startDir());
            assertEquals(f.config.toRealPath(), c.home());
        }
    }

    @Test
    void afterClearTheLiveRecordWinsOverStaleArgv() throws Exception {
        String first;
        try (FakeClaude f = FakeClaude.start(work, home)) {
            first = f.currentId();
        }
        try (FakeClaude f = FakeClaude.start(work, home, "--resume", first)) {
            assertEquals(first, resolve(f).orElseThrow().id(), "before /clear: the resumed id");
            String fresh = f.clear();
            assertNotEquals(first, fresh);
            assertTrue(ProcessHandle.of(f.pid()).orElseThrow().info().arguments().map(List::of).orElseThrow().contains(first),
                    "argv still shows the old --resume id: the /clear case is real");
            Conversation c = resolve(f).orElseThrow();
            assertEquals(fresh, c.id());
            assertEquals(Conversation.Source.RECORD, c.source());
        }
    }

    @Test
    void resumedByNameTheLiveRecordStillGivesTheId() throws Exception {
        String first;
        try (FakeClaude f = FakeClaude.start(work, home, "--name", "my chat")) {
            first = f.currentId();
        }
        try (FakeClaude f = FakeClaude.start(work, home, "--resume", "my chat")) {
            assertEquals(first, f.currentId(), "the fake resumes by name, as claude does");
            Conversation c = resolve(f).orElseThrow();
            assertEquals(first, c.id());
            assertEquals(Conversation.Source.RECORD, c.source());
        }
    }

    @Test
    void aStaleRecordWhoseProcStartDiffersIsIgnored() throws Exception {
        String first;
        try (FakeClaude f = FakeClaude.start(work, home)) {
            first = f.currentId();
        }
        try (FakeClaude f = FakeClaude.start(work, home, "--resume", first)) {
            // What a recycled pid looks like: a record for this pid left by an older process.
            Files.writeString(f.record(), "{\"pid\":" + f.pid() + ",\"sessionId\":\"99999999-9999-4999-8999-999999999999\",\"procStart\":\"1\"}");
            Conversation c = resolve(f).orElseThrow();
            assertEquals(first, c.id());
            assertEquals(Conversation.Source.ARGV, c.source());
        }
    }

    @Test
    void aSymlinkedRecordIsNotFollowed() throws Exception {
        try (FakeClaude f = FakeClaude.start(work, home)) {
            String real = Files.readString(f.record());
            Path elsewhere = Files.writeString(Files.createTempFile("t3-outside", ".json"), real.replaceAll("[0-9a-f]{8}-[0-9a-f-]{27}", "77777777-7777-4777-8777-777777777777"));
            Files.delete(f.record());
            Files.createSymbolicLink(f.record(), elsewhere);
            Optional<Conversation> c = resolve(f);
            // No argv, and the transcript written since it started is the real one.
            assertEquals(Conversation.Source.FILE, c.orElseThrow().source());
            assertNotEquals("77777777-7777-4777-8777-777777777777", c.get().id());
            Files.delete(elsewhere);
        }
    }

    @Test
    void aHugeRecordIsNotBelievedEvenWhenItMatchesTheProcess() throws Exception {
        try (FakeClaude f = FakeClaude.start(work, home)) {
            String id = f.currentId();
            String planted = "77777777-7777-4777-8777-777777777777";
            long start = Procfs.read().get(f.pid()).orElseThrow().startTicks();
            // A record that names this very process (pid and procStart match) and another conversation.
            String head = "{\"pid\":" + f.pid() + ",\"sessionId\":\"" + planted + "\",\"procStart\":\"" + start + "\",\"pad\":\"";
            Files.writeString(f.record(), head + "x\"}");
            Conversation small = resolve(f).orElseThrow();
            assertEquals(Conversation.Source.RECORD, small.source(), "small, it is believed: the record itself is sound");
            assertEquals(planted, small.id());

            // The same record padded past the bound: only a prefix is read, which does not parse.
            try (var out = Files.newBufferedWriter(f.record())) {
                out.write(head);
                for (int i = 0; i <= LiveRecords.MAX_RECORD / 16; i++) out.write("xxxxxxxxxxxxxxxx");
                out.write("\"}");
            }
            assertTrue(Files.size(f.record()) > LiveRecords.MAX_RECORD);
            Conversation c = resolve(f).orElseThrow();
            assertEquals(Conversation.Source.FILE, c.source(), "past the bound the record is not believed; the transcript decides");
            assertEquals(id, c.id());
        }
    }

    @Test
    void transcriptFallbackOnlyWhenExactlyOneFits() throws Exception {
        try (FakeClaude a = FakeClaude.start(work, home)) {
            String idA = a.currentId();
            Files.delete(a.record());
            assertEquals(Optional.of(idA), resolve(a).map(Conversation::id), "one candidate: taken");
            try (FakeClaude b = FakeClaude.start(work, home)) {
                Files.delete(b.record());
                assertEquals(Optional.empty(), resolve(a), "two candidates in one project dir: never guess");
                assertEquals(Optional.empty(), resolve(b));
            }
        }
    }

    @Test
    void recognisesTheWaysClaudeShowsUpInProc() {
        assertTrue(Conversations.isClaude(new Procfs.Proc(1, 0, 0, "claude", List.of("claude"), 0, 0)));
        assertTrue(Conversations.isClaude(new Procfs.Proc(1, 0, 0, "claude.exe", List.of("/x/claude.exe"), 0, 0)));
        assertTrue(Conversations.isClaude(new Procfs.Proc(1, 0, 0, "node", List.of("node", "/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js"), 0, 0)));
        assertFalse(Conversations.isClaude(new Procfs.Proc(1, 0, 0, "bash", List.of("bash"), 0, 0)));
        assertFalse(Conversations.isClaude(new Procfs.Proc(1, 0, 0, "node", List.of("node", "server.js"), 0, 0)));
    }

    @Test
    void argvForms() {
        String id = "0b9c5a59-43a5-4f5b-9d0e-7c8f2b4d1e6a";
        assertEquals(Optional.of(id), Conversations.fromArgv(List.of("claude", "--resume", id)));
        assertEquals(Optional.of(id), Conversations.fromArgv(List.of("/bin/bash", "/x/claude", "-r", id)));
        assertEquals(Optional.of(id), Conversations.fromArgv(List.of("claude", "--session-id", id, "--name", "x")));
        assertEquals(Optional.of(id), Conversations.fromArgv(List.of("claude", "--resume=" + id)));
        assertEquals(Optional.empty(), Conversations.fromArgv(List.of("claude", "--resume", "my-named-chat")));
        assertEquals(Optional.empty(), Conversations.fromArgv(List.of("claude", "--resume")));
    }

    @Test
    void slugReplacesEveryNonAlphanumeric() {
        assertEquals("-home-alice-work-dir-x", Conversations.slug("/home/alice/work_dir.x"));
    }

    /** A picker's title: the name she gave it, else its first prompt (as text or as content parts), one short line. */
    @Test
    void aTitleIsTheGivenNameElseTheFirstPrompt() {
        String named = String.join("\n", "{\"type\":\"custom-title\",\"customTitle\":\"fix the build\",\"sessionId\":\"x\"}",
                "{\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":\"hello\"}}", "");
        assertEquals(Optional.of("fix the build"), Conversations.title(named));
        String parts = "{\"type\":\"mode\"}\n{\"type\":\"user\",\"message\":{\"content\":[{\"type\":\"image\"},{\"type\":\"text\",\"text\":\"why\\n  is it red\"}]}}\n";
        assertEquals(Optional.of("why is it red"), Conversations.title(parts), "white space folded to one line");
        String longOne = "{\"type\":\"user\",\"message\":\"" + "a".repeat(200) + "\"}\n";
        assertEquals(80, Conversations.title(longOne).orElseThrow().length());
        assertEquals(Optional.empty(), Conversations.title("{\"type\":\"user\",\"message\":\"cut"), "a torn last line is no title");
        assertEquals(Optional.empty(), Conversations.title("{\"type\":\"assistant\",\"message\":\"hi\"}\n"));
    }

    /**
     * A record of claude's background agents (kind "bg", no tmux: FACTS): the conversation it
     * holds runs, so nothing starts it again, but it is no pane's conversation, and its end is
     * no crash of one.
     */
    @Test
    void aBackgroundAgentsRecordRunsButIsNoPanesConversationNorACrash() throws Exception {
        try (FakeClaude f = FakeClaude.start(work, home)) {
            String id = f.currentId();
            String record = Files.readString(f.record());
            assertTrue(record.contains("\"kind\":\"interactive\""), record);
            // As the daemon of `claude agents` writes one: the same process and start, kind bg, no pane.
            Files.writeString(f.record(), record.replace("\"kind\":\"interactive\"", "\"kind\":\"bg\"").replaceFirst("\"tmux\":\"[^\"]*\"", "\"tmux\":\"\""));
            Conversation c = resolve(f).orElseThrow();
            assertEquals(id, c.id());
            assertEquals(Conversation.Source.BACKGROUND, c.source());
            assistants.Running running = new assistants.Running(Procfs.read(), me);
            assertTrue(running.all().containsKey(id), "it runs: a restore or heal must not start it a second time");
            var inPane = running.conversationIn(f.pid()).orElseThrow();
            assertNull(inPane.conversation(), "no pane's conversation, even below a pane");

            f.process.destroyForcibly().waitFor(); // SIGKILL: the record stays, as a crash leaves it
            assertTrue(Files.exists(f.record()));
            Procfs after = Procfs.read();
            assertTrue(LiveRecords.stale(f.config, me.uid(), after, after.bootTime()).isEmpty(), "a background agent's end is no crash evidence");
            Files.writeString(f.record(), Files.readString(f.record()).replace("\"kind\":\"bg\"", "\"kind\":\"interactive\""));
            assertEquals(List.of(id), LiveRecords.stale(f.config, me.uid(), after, after.bootTime()).stream().map(LiveRecords.Record::conversation).toList(),
                    "the same record of a terminal's claude is");
        }
    }
}
