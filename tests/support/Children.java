import base.Accounts;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.zeroturnaround.exec.ProcessExecutor;

/** Child processes for tests: run one with an environment and a timeout, or run it as a user. */
public final class Children {
    public record Ran(int exit, String out, String err, Duration took) {
        public String all() { return out + err; }
    }

    private Children() {}

    public static Ran run(List<String> cmd, Map<String, String> env, Path dir, Duration timeout) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        try {
            int exit = new ProcessExecutor(cmd).environment(env).directory(dir.toFile())
                    .redirectInput(java.io.InputStream.nullInputStream())
                    .redirectOutput(out).redirectError(err)
                    .timeout(timeout.toMillis(), TimeUnit.MILLISECONDS).destroyOnExit()
                    .execute().getExitValue();
            return new Ran(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), Duration.ofNanos(System.nanoTime() - t0));
        } catch (Exception e) {
            throw new AssertionError("running " + cmd + " failed: " + e + "\nstdout: " + out + "\nstderr: " + err, e);
        }
    }

    /** Runs a command, failing the test when it does not exit 0. */
    public static String check(String... cmd) {
        Ran r = run(List.of(cmd), Map.of(), Path.of("/"), Duration.ofSeconds(60));
        if (r.exit() != 0) throw new AssertionError(String.join(" ", cmd) + " exited " + r.exit() + ": " + r.all());
        return r.out();
    }

    /**
     * Runs a command as the account (setpriv, clean environment), failing the test on a non-zero
     * exit. In a session of its own (setsid, which execs): never with our controlling terminal.
     */
    public static String asUser(Accounts.Account a, String... cmd) {
        List<String> full = new java.util.ArrayList<>(List.of("setsid", "setpriv", "--reuid=" + a.uid(), "--regid=" + a.gid(), "--init-groups", "--",
                "env", "-i", "HOME=" + a.home(), "USER=" + a.name(), "PATH=/usr/bin:/bin"));
        full.addAll(List.of(cmd));
        return check(full.toArray(String[]::new));
    }

    /** What {@code look} sees to read: a test's view of files or rows, which may fail while being written. */
    public interface Look<T> {
        java.util.Set<T> now() throws Exception;
    }

    /** The one thing {@code look} shows that {@code before} did not, once there is exactly one; fails with {@code what} when none comes in time. */
    public static <T> T oneNew(Look<T> look, java.util.Set<T> before, Duration timeout, java.util.function.Supplier<String> what) throws InterruptedException {
        Object[] made = new Object[1];
        boolean one = waitFor(() -> {
            try {
                java.util.Set<T> now = new java.util.HashSet<>(look.now());
                now.removeAll(before);
                if (now.size() == 1) made[0] = now.iterator().next();
                return now.size() == 1;
            } catch (Exception e) {
                return false; // caught mid-write: look again
            }
        }, timeout);
        if (!one) throw new AssertionError(what.get());
        @SuppressWarnings("unchecked") T t = (T) made[0];
        return t;
    }

    public static boolean waitFor(java.util.function.BooleanSupplier cond, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            if (cond.getAsBoolean()) return true;
            Thread.sleep(50);
        }
        return cond.getAsBoolean();
    }
}
