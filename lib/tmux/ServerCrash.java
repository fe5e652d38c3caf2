package tmux;

import base.KernelLog;
import base.KillerJournal;
import base.Procfs;
import java.time.Instant;
import java.util.Optional;

/**
 * Evidence that a user's tmux server ended by no choice of hers: the machine rebooted since it
 * ran, or the kernel OOM-killed that very server (the pid a snapshot recorded, her uid, after it
 * started, in this boot), or the kernel logged a crash of it (segfault, traps), or the journal
 * holds earlyoom's signal to it, systemd-oomd's kill of its cgroup, or systemd-coredump's record
 * of its crash (KillerJournal). A person's kill -9 or kill-server leaves none of these. Never a file's
 * time: tmux leaves its socket however a server ends, and a new server she starts makes the socket anew. The kernel's log is read once a run, and only
 * when a server of this boot is asked about.
 */
public final class ServerCrash {
    /** The kernel's wall-clock stamps are derived from its boot time, and a server's start is in whole seconds: this much slack. */
    private static final java.time.Duration SLACK = java.time.Duration.ofSeconds(2);

    private final Instant bootTime;
    private final String bootId;
    private final java.util.function.Supplier<KernelLog.Lines> read;
    private final java.util.function.Supplier<KillerJournal.Lines> readJournal;
    private KernelLog.Lines lines;
    private KillerJournal.Lines journal;

    /** Evidence from these kernel lines (OOM kills and crashes), read at the first question; none from the journal. */
    public ServerCrash(Instant bootTime, String bootId, java.util.function.Supplier<KernelLog.Lines> read) {
        this(bootTime, bootId, read, () -> KillerJournal.Lines.NONE);
    }

    /** Evidence from these kernel lines and these journal entries (earlyoom, systemd-oomd, systemd-coredump), each read at the first question that needs it. */
    public ServerCrash(Instant bootTime, String bootId, java.util.function.Supplier<KernelLog.Lines> read,
                       java.util.function.Supplier<KillerJournal.Lines> readJournal) {
        this.bootTime = bootTime;
        this.bootId = bootId;
        this.read = read;
        this.readJournal = readJournal;
    }

    /** This boot's, from the kernel's ring buffer (dmesg) and the journal, read at the first question. */
    public static ServerCrash fromKernel() {
        return new ServerCrash(Procfs.bootTimeNow(), Procfs.bootId(), KernelLog::read, KillerJournal::read);
    }

    /** The evidence, in words for a snapshot's ended line and the log; empty when none is on record (or the server is unknown). */
    public Optional<String> evidence(int uid, Tmux.Server server) {
        if (server == null) return Optional.empty();
        if (earlierBoot(server)) return Optional.of("a reboot (this boot began at " + bootTime + ")");
        Optional<String> oom = of(uid, server).map(k -> "the OOM killer at " + at(k.time()) + " (kernel log)");
        return oom.or(() -> faultOf(server).map(f -> "a crash of tmux itself (" + f.how() + ") at " + at(f.time()) + " (kernel log)"))
                .or(() -> killer(uid, server));
    }

    /**
     * What the journal says of {@code server}: earlyoom signalled that very process (its pid, her
     * uid, the server's name, after it started), systemd-oomd killed the cgroup it ran in (or one
     * above it), or systemd-coredump recorded its crash.
     */
    private synchronized Optional<String> killer(int uid, Tmux.Server server) {
        Instant after = server.started().minus(SLACK);
        KillerJournal.Lines j = journal();
        Optional<String> early = j.kills().stream().filter(k -> k.pid() == server.pid() && k.uid() == uid && k.task().equals(KernelLog.TMUX_SERVER)
                && !k.time().isBefore(after)).findFirst().map(k -> "earlyoom (" + k.signal() + ") at " + at(k.time()) + " (journal)");
        Optional<String> oomd = server.cgroup() == null ? Optional.empty() : j.cgroupKills().stream()
                .filter(k -> (server.cgroup().equals(k.cgroup()) || server.cgroup().startsWith(k.cgroup().endsWith("/") ? k.cgroup() : k.cgroup() + "/"))
                        && !k.time().isBefore(after))
                .findFirst().map(k -> "systemd-oomd, which killed " + k.cgroup() + " at " + at(k.time()) + " (journal)");
        Optional<String> core = j.coredumps().stream().filter(c -> c.pid() == server.pid() && c.uid() == uid && c.task().startsWith("tmux")
                && !c.time().isBefore(after)).findFirst().map(c -> "a crash of tmux itself (" + c.signal() + ", core dumped) at " + at(c.time()) + " (journal)");
        return early.or(() -> oomd).or(() -> core);
    }

    private static Instant at(Instant t) {
        return t.truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    }

    private KillerJournal.Lines journal() {
        if (journal == null) journal = readJournal.get();
        return journal;
    }

    /** The OOM kill of {@code server}, a server of uid's in this boot; empty when none is on record. */
    public synchronized Optional<KernelLog.OomKill> of(int uid, Tmux.Server server) {
        if (server == null || earlierBoot(server)) return Optional.empty();
        Instant after = server.started().minus(SLACK);
        return lines().kills().stream().filter(k -> k.uid() == uid && k.pid() == server.pid() && k.task().equals(KernelLog.TMUX_SERVER) && !k.time().isBefore(after))
                .findFirst();
    }

    /**
     * The crash (segfault, traps) of {@code server} in this boot. The line names no uid: the pid
     * with the server's own name, after the server started, in this boot, ties it to that server.
     */
    public synchronized Optional<KernelLog.Fault> faultOf(Tmux.Server server) {
        if (server == null || earlierBoot(server)) return Optional.empty();
        Instant after = server.started().minus(SLACK);
        return lines().faults().stream().filter(f -> f.pid() == server.pid() && f.task().equals(KernelLog.TMUX_SERVER) && !f.time().isBefore(after))
                .findFirst();
    }

    private KernelLog.Lines lines() {
        if (lines == null) lines = read.get();
        return lines;
    }

    /**
     * A server of an earlier boot: the reboot ended it (and this boot's log says nothing of it).
     * Its boot id says so; a server recorded without one, by its start before this boot began.
     */
    private boolean earlierBoot(Tmux.Server server) {
        if (server.boot() != null) return !server.boot().equals(bootId);
        return server.started().isBefore(bootTime.minus(SLACK));
    }
}
