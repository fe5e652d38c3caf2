import base.Procfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A stand-in for an assistant's native process, for tests that read it through the real /proc:
 * coreutils' tail copied under the assistant's name, so its comm is that name and its argv is
 * ours (tail's own: {@code -F} and files to follow; a missing one is retried for ever, a present
 * one held open). Every one started is killed by {@link #close}.
 */
public final class StandIn implements AutoCloseable {
    private final Path bin;
    private final List<Process> started = new ArrayList<>();

    /** Stand-ins named in {@code bin} (a folder of the test's). */
    public StandIn(Path bin) {
        this.bin = bin;
    }

    /** {@code name} with these arguments, in {@code cwd}, with {@code env} added; returned once /proc shows it under its name. */
    public Procfs.Proc start(String name, Path cwd, Map<String, String> env, List<String> args) throws Exception {
        Path exe = bin.resolve(name);
        if (!Files.exists(exe)) {
            Files.createDirectories(bin);
            Files.copy(Path.of("/usr/bin/tail"), exe);
        }
        List<String> argv = new ArrayList<>(List.of(exe.toString()));
        argv.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(argv).directory(cwd.toFile()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        String comm = name.length() > 15 ? name.substring(0, 15) : name;
        if (!Children.waitFor(() -> Procfs.readOne((int) p.pid()).map(x -> x.comm().equals(comm)).orElse(false), Duration.ofSeconds(5))) {
            throw new AssertionError("stand-in " + name + " did not start");
        }
        Thread.sleep(20); // start ticks are 10 ms: two stand-ins must not share one
        return Procfs.read().get((int) p.pid()).orElseThrow();
    }

    @Override
    public void close() {
        started.forEach(Process::destroyForcibly);
    }
}
