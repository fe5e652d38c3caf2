import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Evidence that a user's tmux server was killed rather than ended by her: an OOM kill of that
 * very server (the pid a snapshot recorded, her uid, after it started, in this boot). Never a
 * file's time: tmux leaves its socket however a server ends, and a new server she starts makes
 * the socket anew. The kernel's log is read once a run, and only when a server is asked about.
 */
public final class ServerCrash {
    /** The kernel's wall-clock stamps are derived from its boot time, and a server's start is in whole seconds: this much slack. */
    private static final java.time.Duration SLACK = java.time.Duration.ofSeconds(2);

    private final Instant bootTime;
    private final java.util.function.Supplier<List<KernelLog.OomKill>> read;
    private List<KernelLog.OomKill> kills;

    public ServerCrash(Instant bootTime, java.util.function.Supplier<List<KernelLog.OomKill>> read) {
        this.bootTime = bootTime;
        this.read = read;
    }

    /** From the kernel's ring buffer (dmesg), read at the first question. */
    public static ServerCrash fromKernel(Instant bootTime) {
        return new ServerCrash(bootTime, KernelLog::oomKills);
    }

    /** The OOM kill of {@code server}, a server of uid's; empty when none is on record (or the server is unknown). */
    public synchronized Optional<KernelLog.OomKill> of(int uid, Tmux.Server server) {
        if (server == null) return Optional.empty();
        // The ring buffer holds this boot only: a server of an earlier boot whose pid came round again is not the one killed.
        if (server.started().isBefore(bootTime.minus(SLACK))) return Optional.empty();
        if (kills == null) kills = read.get();
        Instant after = server.started().minus(SLACK);
        return kills.stream().filter(k -> k.uid() == uid && k.pid() == server.pid() && k.task().equals(KernelLog.TMUX_SERVER) && !k.time().isBefore(after))
                .findFirst();
    }

    /** As {@link #of}, in words for a snapshot's ended line and the log. */
    public Optional<String> evidence(int uid, Tmux.Server server) {
        return of(uid, server).map(k -> "the OOM killer at " + k.time().truncatedTo(java.time.temporal.ChronoUnit.SECONDS) + " (kernel log)");
    }
}
