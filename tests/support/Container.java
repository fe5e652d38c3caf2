import base.Exec;
import base.Procfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A real systemd booted as PID 1 of a container (debootstrap + systemd-nspawn --boot). The
 * rootfs is built once and cached (T3_TEST_CACHE, default /var/cache/t3-tmux-tests); each
 * test boots a copy of it, and booting the same copy again is a reboot. close() stops the
 * container and removes the copy whatever happened.
 */
public final class Container implements AutoCloseable {
    static final Path CACHE = Path.of(System.getenv().getOrDefault("T3_TEST_CACHE", "/var/cache/t3-tmux-tests"));
    /** Bump when the package list changes: a new name builds a new rootfs. */
    static final String ROOTFS = "rootfs-bookworm-v2";
    /** libpam-systemd: a user manager (user@UID.service) needs pam_systemd to get its runtime dir. */
    static final String PACKAGES = "systemd,systemd-sysv,dbus,tmux,procps,util-linux,passwd,libpam-systemd";
    static final String PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public final Path dir;
    private final List<String> binds;
    private final List<Path> logs = new ArrayList<>();
    private Process nspawn;
    private int pid1;
    private int boots;

    private Container(Path dir, List<String> binds) {
        this.dir = dir;
        this.binds = binds;
    }

    /**
     * Why a container cannot be booted here (not root, no nspawn or debootstrap), or null when it can:
     * the reason a container test skips with.
     */
    public static String cannotBoot() {
        if (!base.Accounts.isRoot()) return "needs root to boot a systemd container; run the tests as root (CI does)";
        if (!Exec.run(List.of("sh", "-c", "command -v systemd-nspawn && command -v debootstrap"), Duration.ofSeconds(5)).ok()) {
            return "needs systemd-nspawn and debootstrap (apt-get install systemd-container debootstrap; tests/run.sh does as root)";
        }
        return null;
    }

    /** Bind mounts that give the container this JDK, read-only (its conf/ links into /etc/java-N-openjdk). */
    public static List<String> jdkBinds() throws IOException {
        Path javaHome = Path.of(System.getProperty("java.home")).toRealPath();
        List<String> binds = new ArrayList<>(List.of("--bind-ro=" + javaHome.getParent()));
        try (var etc = Files.newDirectoryStream(Path.of("/etc"), "java-*")) {
            etc.forEach(p -> binds.add("--bind-ro=" + p));
        }
        return binds;
    }

    /**
     * A Maven repository with everything the scripts need (JBang's own jar included), built once
     * into the test cache: bound into the reboot test's container, copied for a person's own caches.
     */
    public static Path warmJBangRepo() throws Exception {
        Path m2 = Files.createDirectories(CACHE.resolve("m2"));
        Map<String, String> env = Map.of("JBANG_REPO", m2.toString(), "JBANG_DIR", CACHE.resolve("jbang-host").toString());
        for (String s : List.of("t3-save.java", "t3-restore.java", "t3-reconcile.java")) {
            Children.Ran r = Children.run(List.of(Repo.ROOT.resolve("jbang").toString(), "--quiet", "build", Repo.ROOT.resolve(s).toString()),
                    env, Repo.ROOT, Duration.ofMinutes(10));
            if (r.exit() != 0) throw new AssertionError("warming " + m2 + " for " + s + ": " + r.all());
        }
        return m2;
    }

    /**
     * What an operator's install needs bound in: the JDK, this checkout read-only at
     * {@code checkout}, and the warmed Maven repository at {@code jbangRepo} (the units' JBANG_REPO).
     */
    public static List<String> operatorBinds(String checkout, String jbangRepo) throws Exception {
        Path m2 = warmJBangRepo();
        List<String> binds = new java.util.ArrayList<>(jdkBinds());
        binds.addAll(List.of("--bind-ro=" + Repo.ROOT.toRealPath() + ":" + checkout, "--bind=" + m2 + ":" + jbangRepo));
        return binds;
    }

    /** A fresh copy of the cached rootfs (built first when absent), with these bind mounts. */
    public static Container create(List<String> binds) throws Exception {
        Path rootfs = cachedRootfs();
        Path work = Files.createTempDirectory(CACHE, "work-");
        Files.delete(work);
        check(List.of("cp", "-a", "--reflink=auto", rootfs.toString(), work.toString()), Duration.ofMinutes(5));
        return new Container(work, binds);
    }

    static Path cachedRootfs() throws Exception {
        Path rootfs = CACHE.resolve(ROOTFS);
        if (Files.isDirectory(rootfs.resolve("usr/lib/systemd"))) return rootfs;
        Files.createDirectories(CACHE);
        removeLeftovers();
        Path tmp = CACHE.resolve(ROOTFS + ".building-" + ProcessHandle.current().pid());
        long t0 = System.nanoTime();
        System.out.println("building the container rootfs (debootstrap, once; cached in " + rootfs + ")");
        check(List.of("debootstrap", "--variant=minbase", "--include=" + PACKAGES, "bookworm", tmp.toString(), debianMirror()), Duration.ofMinutes(20));
        Files.move(tmp, rootfs, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        System.out.printf("rootfs built in %.0f s%n", (System.nanoTime() - t0) / 1e9);
        // Rootfs of older package lists are never booted again: they would only fill the disk.
        try (var old = Files.newDirectoryStream(CACHE, "rootfs-bookworm-v*")) {
            for (Path p : old) {
                if (!p.equals(rootfs) && !p.getFileName().toString().contains(".building-")) {
                    Exec.run(List.of("rm", "-rf", "--one-file-system", p.toString()), Duration.ofMinutes(5));
                }
            }
        }
        return rootfs;
    }

    /** A build a crashed run left half done (its pid is gone) would only fill the disk. */
    static void removeLeftovers() throws IOException {
        try (var ds = Files.newDirectoryStream(CACHE, ROOTFS + ".building-*")) {
            for (Path p : ds) {
                long pid = Long.parseLong(p.getFileName().toString().replaceAll(".*-", ""));
                if (ProcessHandle.of(pid).isEmpty()) Exec.run(List.of("rm", "-rf", "--one-file-system", p.toString()), Duration.ofMinutes(5));
            }
        }
    }

    /** The Debian mirror this host's apt already uses: the only package source we may reach. */
    static String debianMirror() throws IOException {
        List<Path> sources = new ArrayList<>();
        sources.add(Path.of("/etc/apt/sources.list"));
        try (var ds = Files.newDirectoryStream(Path.of("/etc/apt/sources.list.d"), "*.{list,sources}")) {
            ds.forEach(sources::add);
        }
        for (Path s : sources) {
            if (!Files.isRegularFile(s)) continue;
            for (String line : Files.readAllLines(s)) {
                String l = line.strip();
                if (l.startsWith("URIs:") && l.contains("/debian") && !l.contains("security")) return l.substring(5).strip().split("\\s+")[0];
                if (l.startsWith("deb ") && l.contains(" bookworm ")) return l.split("\\s+")[1];
            }
        }
        throw new IOException("no Debian mirror in this host's apt sources: debootstrap needs one");
    }

    /** Boots the container and waits until systemd says the system is up. */
    public void boot() throws Exception {
        bootUntilSystemdAnswers();
        waitUntilUp();
    }

    /** Boots the container and returns as soon as systemctl answers, while the boot goes on. */
    public void bootUntilSystemdAnswers() throws Exception {
        List<String> cmd = new ArrayList<>(List.of("systemd-nspawn", "-D", dir.toString(), "--boot", "--register=no",
                "--keep-unit", "--console=passive", "--machine=t3test" + ProcessHandle.current().pid()));
        cmd.addAll(binds);
        Path log = CACHE.resolve(dir.getFileName() + "-boot" + (++boots) + ".log");
        logs.add(log);
        nspawn = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!Children.waitFor(() -> findPid1().isPresent() || !nspawn.isAlive(), Duration.ofSeconds(30)) || !nspawn.isAlive())
            throw new AssertionError("the container did not start: " + Files.readString(log));
        pid1 = findPid1().orElseThrow();
        // systemctl answers only once PID 1 listens on its socket; until then: "Failed to connect to bus".
        if (!Children.waitFor(() -> !exec(Duration.ofSeconds(10), "systemctl", "is-system-running").out().isBlank(), Duration.ofSeconds(60)))
            throw new AssertionError("systemd in the container never answered: " + Files.readString(log));
    }

    /** Waits until the boot is done (running, or degraded: then the failed units are printed). */
    public void waitUntilUp() {
        Children.Ran up = exec(Duration.ofMinutes(3), "systemctl", "is-system-running", "--wait");
        if (!up.out().strip().equals("running")) {
            Children.Ran failed = exec(Duration.ofSeconds(30), "systemctl", "--failed", "--no-legend");
            System.out.println("container boot " + boots + ": " + up.out().strip() + "; failed units: " + failed.out());
        }
    }

    private Optional<Integer> findPid1() {
        return Procfs.read().all().stream()
                .filter(p -> p.ppid() == nspawn.pid() && p.comm().equals("systemd"))
                .map(Procfs.Proc::pid).findFirst();
    }

    /** Runs a command inside the container, as root, with a plain environment plus {@code env}. */
    public Children.Ran exec(Duration timeout, Map<String, String> env, String... command) {
        List<String> cmd = new ArrayList<>(List.of("nsenter", "-t", Integer.toString(pid1), "-a", "env", "-i", PATH_ENV, "LANG=C.UTF-8", "HOME=/root"));
        env.forEach((k, v) -> cmd.add(k + "=" + v));
        cmd.addAll(List.of(command));
        return Children.run(cmd, Map.of(), Path.of("/"), timeout);
    }

    public Children.Ran exec(Duration timeout, String... command) {
        return exec(timeout, Map.of(), command);
    }

    /** Runs inside, failing the test on a non-zero exit. */
    public String check(String... command) {
        Children.Ran r = exec(Duration.ofMinutes(2), command);
        if (r.exit() != 0) throw new AssertionError(String.join(" ", command) + " (in the container) exited " + r.exit() + ": " + r.all());
        return r.out();
    }

    /** A unit property, e.g. ActiveState or ExecMainExitTimestampMonotonic. */
    public String property(String unit, String name) {
        return check("systemctl", "show", "--value", "-p", name, unit).strip();
    }

    /** A clean shutdown: systemctl poweroff, then wait for the container to end. */
    public void poweroff() throws Exception {
        exec(Duration.ofSeconds(30), "systemctl", "poweroff");
        if (!nspawn.waitFor(90, java.util.concurrent.TimeUnit.SECONDS)) throw new AssertionError("the container did not power off in 90 s");
    }

    @Override
    public void close() throws Exception {
        if (nspawn != null && nspawn.isAlive()) {
            exec(Duration.ofSeconds(10), "systemctl", "poweroff", "--force", "--force");
            if (!nspawn.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                nspawn.destroyForcibly();
                nspawn.waitFor(30, java.util.concurrent.TimeUnit.SECONDS);
            }
        }
        Exec.run(List.of("rm", "-rf", "--one-file-system", dir.toString()), Duration.ofMinutes(5));
        for (Path log : logs) Files.deleteIfExists(log);
    }

    private static void check(List<String> cmd, Duration timeout) {
        Children.Ran r = Children.run(cmd, Map.of(), Path.of("/"), timeout);
        if (r.exit() != 0) throw new AssertionError(String.join(" ", cmd) + " exited " + r.exit() + ": " + r.all());
    }
}
