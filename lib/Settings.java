import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * Every knob, read once from the environment (the units set them; /etc/default/t3-tmux may too).
 * T3_USER_MAP, T3_STATE_DIR, T3_TMUX_TMPDIR (the TMUX_TMPDIR users' servers run with),
 * T3_TMUX_TIMEOUT (seconds per tmux call), T3_CLAUDE, T3_CLAUDE_ARGS.
 */
public record Settings(Path userMap, Path stateDir, Path tmuxTmpDir, Duration tmuxTimeout,
                       String claude, String claudeArgs) {

    public static Settings fromEnvironment() {
        return from(System.getenv());
    }

    public static Settings from(Map<String, String> env) {
        return new Settings(
                Path.of(get(env, "T3_USER_MAP", "/etc/ttyd-user-map")),
                Path.of(get(env, "T3_STATE_DIR", "/var/lib/t3-tmux-state")),
                Path.of(get(env, "T3_TMUX_TMPDIR", "/tmp")),
                seconds(get(env, "T3_TMUX_TIMEOUT", "5")),
                get(env, "T3_CLAUDE", "claude"),
                get(env, "T3_CLAUDE_ARGS", ""));
    }

    private static Duration seconds(String s) {
        try {
            double v = Double.parseDouble(s);
            if (v > 0 && v <= 3600) return Duration.ofMillis((long) (v * 1000));
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException("T3_TMUX_TIMEOUT must be a number of seconds (0 < s <= 3600), not '" + s + "'");
    }

    private static String get(Map<String, String> env, String key, String fallback) {
        String v = env.get(key);
        return v == null || v.isBlank() ? fallback : v.strip();
    }
}
