package assistants;

import assistant.Assistant;
import claude.Claude;
import codex.Codex;
import gemini.Gemini;
import opencode.OpenCode;
import java.util.List;
import java.util.Optional;

/** The assistants t3 keeps the conversations of: the one list, so nothing else names one. */
public final class Assistants {
    /** In the order a pane's process is matched against them. */
    public static final List<Assistant> ALL = List.of(Claude.INSTANCE, Codex.INSTANCE, Gemini.INSTANCE, OpenCode.INSTANCE);

    private Assistants() {}

    /** The assistant a snapshot names; none for a name this release does not know (a newer release wrote it). */
    public static Optional<Assistant> named(String name) {
        return ALL.stream().filter(a -> a.name().equals(name)).findFirst();
    }

    /** Their names, for --help and errors. */
    public static List<String> names() {
        return ALL.stream().map(Assistant::name).toList();
    }
}
