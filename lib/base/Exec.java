package base;

//DEPS org.zeroturnaround:zt-exec:1.12
// zt-exec logs through slf4j: without a binding it warns on stderr at every run.
//DEPS org.slf4j:slf4j-nop:1.7.36

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.zeroturnaround.exec.ProcessExecutor;
import org.zeroturnaround.exec.ProcessResult;

/**
 * Runs one child process with a hard timeout (zt-exec); a hung child costs its timeout, never
 * the run. Its output is bounded: children run as users, and a user's tmux (or whatever her
 * PATH gives) may print without end; memory for it stays bounded and the child is drained to
 * the end, so it never blocks on a full pipe.
 */
public final class Exec {
    /** What we keep of a child's stdout (a tmux listing of thousands of sessions fits easily). */
    public static final int MAX_OUT = 16 << 20;
    /** What we keep of its stderr: enough for any error message. */
    public static final int MAX_ERR = 64 << 10;

    /**
     * What a child did: its exit code (-1 when it timed out), its stdout and stderr as UTF-8
     * (their first bytes only when {@code truncated}: the rest was read and dropped).
     */
    public record Result(int exit, String out, String err, boolean timedOut, boolean truncated) {
        public Result(int exit, String out, String err, boolean timedOut) {
            this(exit, out, err, timedOut, false);
        }

        public boolean ok() { return exit == 0 && !timedOut; }

        /** The first line of stderr, for a log line. */
        public String firstErrorLine() {
            String e = err.strip();
            int nl = e.indexOf('\n');
            return nl < 0 ? e : e.substring(0, nl);
        }
    }

    private Exec() {}

    /** The commands run on this thread while {@link #recording} runs, else null. */
    private static final ThreadLocal<List<List<String>>> RECORDED = new ThreadLocal<>();

    /**
     * Runs {@code work} and returns every command it ran through Exec on this thread, in order:
     * the bench replays a save's own tmux calls as its floor, whichever calls those are.
     */
    public static List<List<String>> recording(Runnable work) {
        List<List<String>> outer = RECORDED.get();
        List<List<String>> ran = new java.util.ArrayList<>();
        RECORDED.set(ran);
        try {
            work.run();
        } finally {
            RECORDED.set(outer);
        }
        return ran;
    }

    public static Result run(List<String> command, Duration timeout) {
        return run(command, java.util.Map.of(), timeout);
    }

    /** Runs with {@code env} added to our own environment. */
    public static Result run(List<String> command, java.util.Map<String, String> env, Duration timeout) {
        return run(command, env, timeout, MAX_OUT, MAX_ERR);
    }

    public static Result run(List<String> command, java.util.Map<String, String> env, Duration timeout, int maxOut, int maxErr) {
        return run(command, env, timeout, maxOut, maxErr, new byte[0]);
    }

    /** Runs with {@code input} on the child's standard input (then end of file). */
    public static Result run(List<String> command, Duration timeout, byte[] input) {
        return run(command, java.util.Map.of(), timeout, MAX_OUT, MAX_ERR, input);
    }

    /** Runs with the file {@code input} (one of ours) on the child's standard input. */
    public static Result run(List<String> command, Duration timeout, java.nio.file.Path input) {
        try (java.io.InputStream in = java.nio.file.Files.newInputStream(input, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return run(command, java.util.Map.of(), timeout, MAX_OUT, MAX_ERR, in);
        } catch (java.io.IOException e) {
            return new Result(127, "", "cannot read " + input + ": " + e.getMessage(), false);
        }
    }

    private static Result run(List<String> command, java.util.Map<String, String> env, Duration timeout, int maxOut, int maxErr, byte[] input) {
        return run(command, env, timeout, maxOut, maxErr, new java.io.ByteArrayInputStream(input));
    }

    private static Result run(List<String> command, java.util.Map<String, String> env, Duration timeout, int maxOut, int maxErr, java.io.InputStream input) {
        List<List<String>> recorded = RECORDED.get();
        if (recorded != null) recorded.add(List.copyOf(command));
        Bounded out = new Bounded(maxOut);
        Bounded err = new Bounded(maxErr);
        try {
            ProcessResult r = new ProcessExecutor(command)
                    .directory(new File("/"))
                    .environment(env)
                    .redirectInput(input)
                    .redirectOutput(out)
                    .redirectError(err)
                    .timeout(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .destroyOnExit()
                    .execute();
            return new Result(r.getExitValue(), out.text(), err.text(), false, out.dropped || err.dropped);
        } catch (TimeoutException e) {
            return new Result(-1, out.text(), err.text(), true, out.dropped || err.dropped);
        } catch (java.io.IOException e) {
            return new Result(127, "", String.valueOf(e.getMessage()), false);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, out.text(), "interrupted", false, out.dropped || err.dropped);
        }
    }

    /** Keeps the first {@code limit} bytes written to it and drops the rest, noting that it did. */
    static final class Bounded extends OutputStream {
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        private final int limit;
        volatile boolean dropped;

        Bounded(int limit) {
            this.limit = limit;
        }

        @Override
        public synchronized void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            int room = limit - kept.size();
            if (len > room) dropped = true;
            if (room > 0) kept.write(b, off, Math.min(room, len));
        }

        synchronized String text() {
            return kept.toString(StandardCharsets.UTF_8);
        }
    }
}
