import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fake claude fails on a bad command line as the real CLI does, rather than spinning. */
class FakeClaudeTest {
    @TempDir Path home;

    @Test
    void aFlagWithoutItsValueIsAnErrorNotAnEndlessLoop() throws Exception {
        for (List<String> args : List.of(List.of("--resume"), List.of("-r"), List.of("--name", "x", "--session-id"), List.of("--name"))) {
            List<String> cmd = new java.util.ArrayList<>(List.of(Repo.FAKE_CLAUDE.toString()));
            cmd.addAll(args);
            Children.Ran r = Children.run(cmd, Map.of("HOME", home.toString(), "CLAUDE_CONFIG_DIR", ""), home, Duration.ofSeconds(5));
            String flag = args.get(args.size() - 1);
            assertEquals(1, r.exit(), args + ": " + r.all());
            assertTrue(r.err().matches("error: option '" + flag + " <[a-z]+>' argument missing\n"), args + ": " + r.err());
            assertEquals("", r.out(), args.toString());
        }
        assertFalse(Files.exists(home.resolve(".claude/sessions")), "it stopped before starting a conversation");
    }
}
