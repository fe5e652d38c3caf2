package store;

/**
 * Why a saved conversation is not running: who stopped it ({@link Kind}) and what happened, in
 * words. Written as its kind's first words and the detail ("killed: claude was killed, ..."), as
 * snapshots have always held it; a reason of an unknown kind is kept as it is, and counts as not
 * the user's doing.
 */
public record NotRunning(Kind kind, String detail) {
    /**
     * The user (or nobody can tell: left alone by blanket restores), a crash, a restore that
     * failed, or an assistant that leaves no evidence of how it ended (STOPPED: a kill must not
     * lose it, so it is brought back too, as are the other two).
     */
    public enum Kind {
        EXITED("exited: "), KILLED("killed: "), RESTORE_FAILED("restore failed: "), STOPPED("stopped: "), OTHER("");

        final String prefix;

        Kind(String prefix) { this.prefix = prefix; }
    }

    public static NotRunning exited(String detail) { return new NotRunning(Kind.EXITED, detail); }

    public static NotRunning killed(String detail) { return new NotRunning(Kind.KILLED, detail); }

    public static NotRunning restoreFailed(String detail) { return new NotRunning(Kind.RESTORE_FAILED, detail); }

    public static NotRunning stopped(String detail) { return new NotRunning(Kind.STOPPED, detail); }

    /** A pane's conversation when a restore did not make the pane at all (tmux refused it, or the restore stopped). */
    public static final NotRunning NOT_RECREATED = restoreFailed("its pane was not recreated");

    /** A reason as a snapshot holds it (null: running). */
    public static NotRunning of(String text) {
        if (text == null) return null;
        for (Kind k : Kind.values()) {
            if (k != Kind.OTHER && text.startsWith(k.prefix)) return new NotRunning(k, text.substring(k.prefix.length()));
        }
        return new NotRunning(Kind.OTHER, text);
    }

    /** As a snapshot holds it, and the log says it. */
    public String text() { return kind.prefix + detail; }

    @Override
    public String toString() { return text(); }

    /** Not the user's doing: a boot or blanket restore brings it back. */
    public boolean wanted() { return kind != Kind.EXITED; }

    /** A conversation that was running, or stopped by anything but its user. */
    public static boolean wanted(String conversation, NotRunning why) {
        return conversation != null && (why == null || why.wanted());
    }

    /** The text of {@code why}, or null. */
    public static String text(NotRunning why) {
        return why == null ? null : why.text();
    }
}
