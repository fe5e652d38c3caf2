import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** The fake claude (tests/fake-claude/claude) run as a child of the tests, as the current user. */
public final class FakeClaude implements AutoCloseable {
    public final Process process;
    public final Path config;
    private final OutputStream stdin;

    private FakeClaude(Process p, Path config) {
        this.process = p;
        this.config = config;
        this.stdin = p.getOutputStream();
    }

    /** Starts it in {@code cwd} with {@code home} as HOME and waits for its live record. */
    public static FakeClaude start(Path cwd, Path home, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Repo.FAKE_CLAUDE.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("HOME", home.toString());
        pb.environment().remove("CLAUDE_CONFIG_DIR");
        FakeClaude f = new FakeClaude(pb.start(), home.resolve(".claude"));
        if (!Children.waitFor(() -> Files.exists(f.record()) || !f.process.isAlive(), Duration.ofSeconds(10)) || !f.process.isAlive())
            throw new AssertionError("fake claude did not start (exit " + (f.process.isAlive() ? "?" : f.process.exitValue()) + ")");
        return f;
    }

    public int pid() { return (int) process.pid(); }

    public Path record() { return config.resolve("sessions").resolve(pid() + ".json"); }

    /** The conversation id its live record holds now. */
    public String currentId() throws IOException {
        return new ObjectMapper().readTree(Files.readString(record())).path("sessionId").asText();
    }

    /** Types a line, as a user would at the prompt ("/clear", "/exit", or a message). */
    public void type(String line) throws IOException {
        stdin.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        stdin.flush();
    }

    /** Types /clear and waits until the live record names the new conversation. */
    public String clear() throws Exception {
        String before = currentId();
        type("/clear");
        if (!Children.waitFor(() -> { try { return !currentId().equals(before); } catch (IOException e) { return false; } }, Duration.ofSeconds(10)))
            throw new AssertionError("/clear did not change the conversation id");
        return currentId();
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            type("/exit");
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly();
        }
    }
}
