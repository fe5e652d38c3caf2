package assistant;

import java.nio.file.Path;
import java.time.Instant;

/**
 * A conversation its assistant still keeps: where it started (null when its files do not say;
 * the snapshot's may) and when it was last active (its file's or row's time: the most recent
 * is resumed first).
 */
public record Stored(Path startDir, Instant lastActive) {}
