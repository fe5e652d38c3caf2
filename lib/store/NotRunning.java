package store;

/** Why a saved conversation is not running: a reason in words, and what its first word means. */
public final class NotRunning {
    private NotRunning() {}

    /**
     * The first word of a not-running reason says who stopped it: the user (or nobody can tell:
     * left alone by blanket restores), a crash (its live record left behind), or a restore that
     * failed (both brought back running by the next blanket or boot restore).
     */
    public static final String EXITED = "exited: ", KILLED = "killed: ", RESTORE_FAILED = "restore failed: ";

    /** A conversation that was running, or stopped by anything but its user. */
    public static boolean wanted(String conversation, String notRunning) {
        return conversation != null && (notRunning == null || !notRunning.startsWith(EXITED));
    }

    /** Why a pane's conversation is not running when a restore did not make the pane at all (tmux refused it, or the restore stopped). */
    public static final String NOT_RECREATED = RESTORE_FAILED + "its pane was not recreated";
}
