package assistant;

import java.nio.file.Path;

/**
 * A conversation an assistant runs: which assistant, its id, how we know ({@code source}),
 * where it started (its resume runs there; null: not known) and the assistant's home it lives in.
 */
public record Conversation(Assistant assistant, String id, Source source, Path startDir, Path home) {

    /** How we know which conversation a process holds, most certain first. */
    public enum Source {
        /** A record that names the very process (claude's live record with its start ticks). */
        RECORD,
        /** Its argv: stale once the user starts another conversation in the same process. */
        ARGV,
        /** The one conversation file or row made or written since the process started, where it runs. */
        FILE,
        /** A pane t3 restored, waiting at its gate to resume it: it is wanted there. */
        WAITING,
        /** A background agent holds it (claude's kind "bg" record): it runs, so nothing starts it again, but in no pane. */
        BACKGROUND
    }
}
