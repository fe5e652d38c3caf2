package assistant;

import java.nio.file.Path;
import java.time.Instant;

/**
 * Evidence that an assistant's process was killed, not ended by its user: which process
 * ({@code pid} with its start ticks, so a recycled pid never matches), the conversation it held,
 * where it ran ({@code cwd}; {@code pane} the tmux pane id, null when not known), when the
 * evidence was written, the home it lives in, and the evidence itself in words.
 */
public record Crash(Assistant assistant, int pid, long procStart, String conversation, Path cwd, String pane, Instant written, Path home,
                    String evidence) {
    /** Names this crash among all others: a pid with its start ticks never repeats within a boot. */
    public String key() { return pid + ":" + procStart; }
}
