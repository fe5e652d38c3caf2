import java.io.ByteArrayOutputStream;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.zeroturnaround.exec.ProcessExecutor;
import org.zeroturnaround.exec.ProcessResult;

/** Runs one child process with a hard timeout (zt-exec); a hung child costs its timeout, never the run. */
public final class Exec {
    /** What a child did: its exit code (-1 when it timed out), its stdout and stderr as UTF-8. */
    public record Result(int exit, String out, String err, boolean timedOut) {
        public boolean ok() { return exit == 0 && !timedOut; }

        /** The first line of stderr, for a log line. */
        public String firstErrorLine() {
            String e = err.strip();
            int nl = e.indexOf('\n');
            return nl < 0 ? e : e.substring(0, nl);
        }
    }

    private Exec() {}

    public static Result run(List<String> command, Duration timeout) {
        return run(command, java.util.Map.of(), timeout);
    }

    /** Runs with {@code env} added to our own environment. */
    public static Result run(List<String> command, java.util.Map<String, String> env, Duration timeout) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            ProcessResult r = new ProcessExecutor(command)
                    .directory(new File("/"))
                    .environment(env)
                    .redirectInput(java.io.InputStream.nullInputStream())
                    .redirectOutput(out)
                    .redirectError(err)
                    .timeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .destroyOnExit()
                    .execute();
            return new Result(r.getExitValue(), utf8(out), utf8(err), false);
        } catch (TimeoutException e) {
            return new Result(-1, utf8(out), utf8(err), true);
        } catch (java.io.IOException e) {
            return new Result(127, "", String.valueOf(e.getMessage()), false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, utf8(out), "interrupted", false);
        }
    }

    private static String utf8(ByteArrayOutputStream b) {
        return b.toString(StandardCharsets.UTF_8);
    }
}
