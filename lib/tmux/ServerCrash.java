package tmux;

import base.KernelLog;
import base.Procfs;
import java.time.Instant;
import java.util.Optional;

/**
 * Evidence that a user's tmux server ended by no choice of hers: the machine rebooted since it
 * ran, or the kernel OOM-killed that very server (the pid a snapshot recorded, her uid, after it
 * started, in this boot), or the kernel logged a crash of it (segfault, traps). Never a file's
 * time: tmux leaves its socket however a server ends, and a new server she starts makes the socket anew. The kernel's log is read once a run, and only
 * when a server of this boot is asked about.
 */
public final class ServerCrash {
    /** The kernel's wall-clock stamps are derived from its boot time, and a server's start is in whole seconds: this much slack. */
    private static final java.time.Duration SLACK = java.time.Duration.ofSeconds(2);

    private final Instant bootTime;
    private final String bootId;
    private final java.util.function.Supplier<KernelLog.Lines> read;
    private KernelLog.Lines lines;

    /** Evidence from these kernel lines (OOM kills and crashes), read at the first question. */
    public ServerCrash(Instant bootTime, String bootId, java.util.function.Supplier<KernelLog.Lines> read) {
        this.bootTime = bootTime;
        this.bootId = bootId;
        this.read = read;
    }

    /** This boot's, from the kernel's ring buffer (dmesg), read at the first question. */
    public static ServerCrash fromKernel() {
        return new ServerCrash(Procfs.bootTimeNow(), Procfs.bootId(), KernelLog::read);
    }

    /** The evidence, in words for a snapshot's ended line and the log; empty when none is on record (or the server is unknown). */
    public Optional<String> evidence(int uid, Tmux.Server server) {
        if (server == null) return Optional.empty();
        if (earlierBoot(server)) return Optional.of("a reboot (this boot began at " + bootTime + ")");
        Optional<String> oom = of(uid, server).map(k -> "the OOM killer at " + k.time().truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + " (kernel log)");
        return oom.or(() -> faultOf(server).map(f -> "a crash of tmux itself (" + f.how() + ") at " + f.time().truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                + " (kernel log)"));
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
