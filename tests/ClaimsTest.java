import assistant.Claims;
import assistant.Conversation;
import claude.Claude;
import claude.Conversations;
import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClaimsTest {
    static final String A = "aaaaaaaa-0000-4000-8000-000000000001", B = "bbbbbbbb-0000-4000-8000-000000000002";

    static Claims.Claim claim(String session, String id, Conversation.Source src, long start) {
        return new Claims.Claim(session, new Conversation(Claude.INSTANCE, id, src, Path.of("/w"), Path.of("/c")), start);
    }

    @Test
    void liveRecordBeatsArgvWhateverTheOrder() {
        Claims.Resolved s = Claims.resolve(List.of(
                claim("argv-only", A, Conversation.Source.ARGV, 10),
                claim("recorded", A, Conversation.Source.RECORD, 20)));
        assertEquals(java.util.Set.of("recorded"), s.kept().keySet());
        assertEquals("argv-only", s.lost().get(0).claim().session());
        assertEquals("recorded", s.lost().get(0).keptBy());
    }

    @Test
    void transcriptGuessLosesToArgv() {
        Claims.Resolved s = Claims.resolve(List.of(
                claim("guess", A, Conversation.Source.FILE, 1),
                claim("argv", A, Conversation.Source.ARGV, 99)));
        assertEquals(java.util.Set.of("argv"), s.kept().keySet());
    }

    @Test
    void tieGoesToTheOlderProcess() {
        Claims.Resolved s = Claims.resolve(List.of(
                claim("newer", A, Conversation.Source.ARGV, 500),
                claim("older", A, Conversation.Source.ARGV, 100)));
        assertEquals(java.util.Set.of("older"), s.kept().keySet());
    }

    @Test
    void distinctConversationsAreAllKept() {
        Claims.Resolved s = Claims.resolve(List.of(
                claim("one", A, Conversation.Source.ARGV, 1),
                claim("two", B, Conversation.Source.RECORD, 2)));
        assertEquals(java.util.Set.of("one", "two"), s.kept().keySet());
        assertEquals(List.of(), s.lost());
    }
}
