package base;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One read of /proc into a process table (pid, ppid, uid, comm, argv, start time), so a run
 * walks process trees in memory instead of forking ps per pane.
 */
public final class Procfs {
    /**
     * One process. {@code tpgid} is the foreground process group of its terminal (field 8),
     * {@code startTicks} field 22 of /proc/pid/stat: clock ticks since boot.
     */
    public record Proc(int pid, int ppid, int uid, String comm, List<String> argv, int tpgid, long startTicks) {}

    /** The fields of /proc/pid/stat we use. */
    public record Stat(String comm, int ppid, int tpgid, long startTicks) {}

    /** USER_HZ: 100 on every Linux architecture t3-tmux runs on (getconf CLK_TCK). */
    public static final long CLK_TCK = 100;
    private static final int MAX_CMDLINE = 64 * 1024;

    private final Path root;
    private final Map<Integer, Proc> byPid;
    private final Map<Integer, List<Integer>> children = new HashMap<>();

    private Procfs(Path root, Map<Integer, Proc> byPid) {
        this.root = root;
        this.byPid = byPid;
        // Read with the table, not at first use: the users' threads share it read-only.
        this.bootTime = bootMillis(root);
        for (Proc p : byPid.values()) children.computeIfAbsent(p.ppid(), k -> new ArrayList<>()).add(p.pid());
        children.values().forEach(l -> l.sort(null));
    }

    public static Procfs read() {
        return read(Path.of("/proc"));
    }

    /** Reads every process once; processes that exit while we read are simply absent. */
    public static Procfs read(Path root) {
        Map<Integer, Proc> procs = new HashMap<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root, "[0-9]*")) {
            for (Path dir : ds) {
                int pid;
                try {
                    pid = Integer.parseInt(dir.getFileName().toString());
                } catch (NumberFormatException e) {
                    continue;
                }
                readProc(dir, pid).ifPresent(p -> procs.put(pid, p));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + root + ": " + e.getMessage(), e);
        }
        return new Procfs(root, procs);
    }

    /** One process, read now from the real /proc; empty when it is gone. */
    public static Optional<Proc> readOne(int pid) {
        return pid > 0 ? readProc(Path.of("/proc", Integer.toString(pid)), pid) : Optional.empty();
    }

    private static Optional<Proc> readProc(Path dir, int pid) {
        try {
            Stat st = parseStat(Files.readString(dir.resolve("stat"), StandardCharsets.UTF_8));
            int uid = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            return Optional.of(new Proc(pid, st.ppid(), uid, st.comm(), readArgv(dir.resolve("cmdline")), st.tpgid(), st.startTicks()));
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // gone, or a kernel thread we cannot parse: not a pane's descendant anyway
        }
    }

    /** Parses /proc/pid/stat. The comm sits in parentheses and may hold spaces and ')': split at the LAST ')'. */
    public static Stat parseStat(String stat) {
        int open = stat.indexOf('(');
        int close = stat.lastIndexOf(')');
        if (open < 0 || close < open) throw new IllegalArgumentException("not a /proc/pid/stat line");
        String comm = stat.substring(open + 1, close);
        String[] f = stat.substring(close + 1).trim().split(" +");
        // f[0] is field 3 (state): field N is f[N - 3].
        if (f.length < 20) throw new IllegalArgumentException("short /proc/pid/stat line");
        return new Stat(comm, Integer.parseInt(f[1]), Integer.parseInt(f[5]), Long.parseLong(f[19]));
    }

    private static List<String> readArgv(Path cmdline) throws IOException {
        byte[] raw;
        try (var in = Files.newInputStream(cmdline)) {
            raw = in.readNBytes(MAX_CMDLINE);
        }
        if (raw.length == 0) return List.of();
        String s = new String(raw, StandardCharsets.UTF_8);
        if (s.endsWith("\0")) s = s.substring(0, s.length() - 1);
        return Arrays.asList(s.split("\0", -1));
    }

    public java.util.Collection<Proc> all() {
        return byPid.values();
    }

    public int size() {
        return byPid.size();
    }

    /** The process and all its descendants, breadth first (nearest first). */
    public List<Proc> selfAndDescendants(int pid) {
        List<Proc> out = new ArrayList<>();
        Deque<Integer> todo = new ArrayDeque<>(List.of(pid));
        while (!todo.isEmpty()) {
            Proc p = byPid.get(todo.poll());
            if (p == null) continue;
            out.add(p);
            todo.addAll(children.getOrDefault(p.pid(), List.of()));
        }
        return out;
    }

    /**
     * The cgroup the process is in (cgroup v2's path, the {@code 0::} line; on v1, systemd's own
     * hierarchy), when it is still there to read: what systemd-oomd names when it kills.
     */
    public Optional<String> cgroup(int pid) {
        return cgroupOf(root, pid);
    }

    /** As {@link #cgroup}, of this machine's /proc. */
    public static Optional<String> cgroupOf(int pid) {
        return cgroupOf(Path.of("/proc"), pid);
    }

    private static Optional<String> cgroupOf(Path root, int pid) {
        try {
            String v1 = null;
            for (String line : Files.readAllLines(root.resolve(pid + "/cgroup"), StandardCharsets.UTF_8)) {
                if (line.startsWith("0::/")) return Optional.of(line.substring(3));
                if (line.contains(":name=systemd:/")) v1 = line.substring(line.indexOf(":name=systemd:") + 14);
            }
            return Optional.ofNullable(v1);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The process's working directory, when it is still there to read. */
    public Optional<Path> cwd(int pid) {
        try {
            return Optional.of(Files.readSymbolicLink(root.resolve(pid + "/cwd")));
        } catch (IOException | UnsupportedOperationException e) {
            return Optional.empty();
        }
    }

    /**
     * What tmux calls pane_current_path: the working directory of the pane's foreground process
     * group (its terminal's tpgid), else of the pane's own process. Read from /proc, it is exact
     * where tmux's printed form is not (a path may hold newlines).
     */
    public Optional<Path> currentPath(int panePid) {
        Proc pane = byPid.get(panePid);
        if (pane != null && pane.tpgid() > 0) {
            Optional<Path> fg = cwd(pane.tpgid());
            if (fg.isPresent()) return fg;
        }
        return cwd(panePid);
    }

    /**
     * {@link #currentPath(int)} for a pane of user {@code uid}: only processes of that user are
     * asked. A pane pid that is not hers gives nothing; a foreground process that is not hers (a
     * setuid program, a su to someone else) gives way to the pane's own process.
     */
    public Optional<Path> currentPath(int panePid, int uid) {
        if (!ownedBy(panePid, uid)) return Optional.empty();
        Proc pane = byPid.get(panePid); // null when it started after the table was read
        int fg = pane == null ? 0 : pane.tpgid();
        if (fg > 0 && ownedBy(fg, uid)) {
            Optional<Path> cwd = cwd(fg);
            if (cwd.isPresent()) return cwd;
        }
        return cwd(panePid);
    }

    /** Whether the process runs as {@code uid}: see {@link #owner}. */
    public boolean ownedBy(int pid, int uid) {
        return owner(pid).map(o -> o == uid).orElse(false);
    }

    /**
     * The uid a process runs as (the owner of its /proc dir): from the table, or, for a process
     * started since the table was read, from /proc now. Empty when there is no such process.
     */
    public Optional<Integer> owner(int pid) {
        Proc p = byPid.get(pid);
        if (p != null) return Optional.of(p.uid());
        if (pid <= 0) return Optional.empty();
        try {
            return Optional.of((Integer) Files.getAttribute(root.resolve(Integer.toString(pid)), "unix:uid", LinkOption.NOFOLLOW_LINKS));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** One variable of the process's initial environment (root, or the same user, may read it). */
    public Optional<String> environ(int pid, String name) {
        try (var in = Files.newInputStream(root.resolve(pid + "/environ"))) {
            String env = new String(in.readNBytes(1 << 20), StandardCharsets.UTF_8);
            String prefix = name + "=";
            for (String kv : env.split("\0")) if (kv.startsWith(prefix)) return Optional.of(kv.substring(prefix.length()));
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** More open files than any assistant holds: past this, the rest are not looked at. */
    private static final int MAX_OPEN_FILES = 4096;

    /**
     * The paths of the files the process holds open (what /proc/PID/fd links to), at most
     * {@link #MAX_OPEN_FILES}; none when it is gone. Links are read, never followed.
     */
    public List<Path> openFiles(int pid) {
        List<Path> out = new ArrayList<>();
        int seen = 0;
        try (java.nio.file.DirectoryStream<Path> fds = Files.newDirectoryStream(root.resolve(pid + "/fd"))) {
            for (Path fd : fds) {
                if (++seen > MAX_OPEN_FILES) break; // pipes and sockets count too: the process is the user's
                try {
                    Path target = Files.readSymbolicLink(fd);
                    if (target.isAbsolute()) out.add(target);
                } catch (IOException | UnsupportedOperationException e) {
                    // closed meanwhile
                }
            }
        } catch (IOException e) {
            // gone, or not ours to read
        }
        return out;
    }

    /** The process of that pid, if it was there when the table was read. */
    public Optional<Proc> get(int pid) {
        return Optional.ofNullable(byPid.get(pid));
    }

    /** Memory as the kernel sees it now (/proc/meminfo): total and available, in bytes. */
    public record Memory(long total, long available) {}

    public Memory memory() {
        long total = 0, available = 0;
        try {
            for (String line : Files.readAllLines(root.resolve("meminfo"))) {
                String[] f = line.split("\\s+");
                if (f.length < 2) continue;
                if (f[0].equals("MemTotal:")) total = Long.parseLong(f[1]) * 1024;
                if (f[0].equals("MemAvailable:")) available = Long.parseLong(f[1]) * 1024;
            }
        } catch (IOException | NumberFormatException e) {
            throw new IllegalStateException("cannot read " + root.resolve("meminfo") + ": " + e.getMessage(), e);
        }
        return new Memory(total, available);
    }

    /** This boot's id (/proc/sys/kernel/random/boot_id): what was true in another boot is not now. */
    public static String bootId() {
        try {
            return Files.readAllLines(Path.of("/proc/sys/kernel/random/boot_id")).get(0).strip();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the boot id: " + e.getMessage(), e);
        }
    }

    /** When this boot began (to the hundredth of a second: see {@link #bootMillis}). */
    public Instant bootTime() {
        return Instant.ofEpochMilli(bootTime);
    }

    /** When this boot began, from the real /proc, without reading the process table. */
    public static Instant bootTimeNow() {
        return Instant.ofEpochMilli(bootMillis(Path.of("/proc")));
    }

    /** When the process started, from its start ticks and the boot time (within a few hundredths of a second). */
    public Instant startTime(Proc p) {
        return startTime(p, bootTime());
    }

    /**
     * When the process had surely started: what is made after this was made after it began (a
     * file of an assistant that ended a moment before it started is not). {@link #startTime(Proc)}
     * is good to a tick and the boot time's hundredth; this allows a tenth of a second.
     */
    public Instant surelyStarted(Proc p) {
        return startTime(p).plusMillis(100);
    }

    /** As above, for a boot that began at {@code bootTime}. */
    public static Instant startTime(Proc p, Instant bootTime) {
        return bootTime.plusMillis(p.startTicks() * 1000 / CLK_TCK);
    }

    /** Epoch milliseconds. */
    private final long bootTime;

    /**
     * When this boot began, in epoch ms: now less /proc/uptime (hundredths of a second), held
     * within the second btime names (btime is that time cut to whole seconds). The files an
     * assistant makes carry ms: a whole second of doubt would tell no process from one that
     * ended a moment before it.
     */
    private static long bootMillis(Path root) {
        long floor = btime(root) * 1000;
        try {
            String up = Files.readAllLines(root.resolve("uptime")).get(0).split(" ")[0];
            long boot = System.currentTimeMillis() - Math.round(Double.parseDouble(up) * 1000);
            return Math.max(floor, Math.min(floor + 999, boot));
        } catch (IOException | RuntimeException e) {
            return floor;
        }
    }

    private static long btime(Path root) {
        try {
            for (String line : Files.readAllLines(root.resolve("stat"))) {
                if (line.startsWith("btime ")) return Long.parseLong(line.substring(6).trim());
            }
        } catch (IOException | NumberFormatException e) {
            throw new IllegalStateException("cannot read " + root.resolve("stat") + ": " + e.getMessage(), e);
        }
        throw new IllegalStateException(root.resolve("stat") + " has no btime line");
    }
}
