package claude;

import assistant.LaunchOptions;
import java.util.List;
import java.util.Set;

/**
 * The claude launch options carried to the conversation's resume: the model, the permission
 * mode, extra directories, an appended system prompt. Only these (see {@link LaunchOptions}).
 */
public final class ClaudeOptions {
    static final LaunchOptions CARRIED = new LaunchOptions(
            Set.of("--model", "--permission-mode", "--append-system-prompt"), Set.of("--add-dir"), Set.of());

    private ClaudeOptions() {}

    /** The allowlisted options in a claude process's argv, in order, each with its value(s); nothing else. */
    public static List<String> carried(List<String> argv) {
        return CARRIED.carried(argv);
    }
}
