import base.Exec;
import base.KernelLog;
import java.nio.file.Files;
import tmux.Tmux;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A memory cgroup with a small limit (v1 or v2, under our own cgroup), so the kernel's OOM
 * killer kills a process for real, and logs it as it does on a machine short of memory.
 */
public final class MemoryCgroup implements AutoCloseable {
    private final Path dir;
    private final boolean v1;

    private MemoryCgroup(Path dir, boolean v1) {
        this.dir = dir;
        this.v1 = v1;
    }

    /** A new cgroup limited to {@code bytes}, or why there can be none here. */
    public static MemoryCgroup create(String name, long bytes) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
            String[] f = line.split(":", 3);
            if (f.length < 3) continue;
            boolean v1 = List.of(f[1].split(",")).contains("memory");
            boolean v2 = f[0].equals("0") && f[1].isEmpty() && Files.readString(Path.of("/sys/fs/cgroup/cgroup.controllers")).contains("memory");
            if (!v1 && !v2) continue;
            Path parent = Path.of(v1 ? "/sys/fs/cgroup/memory" : "/sys/fs/cgroup", f[2].substring(1));
            Path dir = Files.createDirectory(parent.resolve(name));
            MemoryCgroup cg = new MemoryCgroup(dir, v1);
            cg.set(v1 ? "memory.limit_in_bytes" : "memory.max", Long.toString(bytes));
            // No swap to escape to: the limit must end in an OOM kill.
            if (Files.exists(dir.resolve(v1 ? "memory.memsw.limit_in_bytes" : "memory.swap.max"))) cg.set(v1 ? "memory.memsw.limit_in_bytes" : "memory.swap.max", v1 ? Long.toString(bytes) : "0");
            return cg;
        }
        throw new IllegalStateException("no memory cgroup controller this test can write to (/proc/self/cgroup)");
    }

    /**
     * A real OOM kill of a user's tmux server, as a machine short of memory makes one: the server
     * in a small memory cgroup, made to grow by a window of session {@code session} printing a
     * flood into a huge history; returns once the kernel has killed it and logged it.
     */
    public static void killServer(Tmux tmux, int server, int uid, String session) throws Exception {
        try (MemoryCgroup cg = create("t3-oom-" + ProcessHandle.current().pid(), 48L << 20)) {
            cg.add(server);
            if (!tmux.run("set-option", "-g", "history-limit", "10000000").ok()
                    || !tmux.run("new-window", "-d", "-t", "=" + session + ":", "seq 1 200000000; sleep 60").ok()) {
                throw new AssertionError("could not make the server grow");
            }
            if (!Children.waitFor(() -> ProcessHandle.of(server).isEmpty(), java.time.Duration.ofSeconds(90))) throw new AssertionError("the OOM killer did not take the server");
        }
        if (KernelLog.oomKills().stream().noneMatch(k -> k.pid() == server && k.uid() == uid)) throw new AssertionError("the kernel did not log the OOM kill");
    }

    /** Moves the process in: what it allocates from now on counts against the limit. */
    public void add(int pid) throws Exception {
        set("cgroup.procs", Integer.toString(pid));
    }

    private void set(String file, String value) throws Exception {
        Files.writeString(dir.resolve(file), value);
    }

    @Override
    public void close() throws Exception {
        for (int i = 0; i < 50; i++) {
            List<String> left = Files.readAllLines(dir.resolve("cgroup.procs"));
            if (left.isEmpty()) break;
            for (String pid : left) Exec.run(List.of("kill", "-KILL", pid), java.time.Duration.ofSeconds(5));
            Thread.sleep(100);
        }
        Files.deleteIfExists(dir);
    }
}
