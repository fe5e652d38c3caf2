package store;

import java.util.List;

/**
 * One pane: where it is (window index, pane index), whether it is its window's active pane,
 * its cwd, the conversation running in it (which assistant runs it, its id, where it started,
 * the assistant's home when not its default; or kept, with why it is not running, as for a
 * session), the launch options carried to its resume, the program to start again (empty: a
 * shell), and which live pane it was ({@code %id@server-start}, null when not known): a save
 * tells the same pane from another that took its place (a closed window's index given to the
 * next) by it.
 */
public record SavedPane(int window, int index, boolean active, String cwd, String assistant, String conversation, String conversationCwd,
                        String home, NotRunning notRunning, List<String> options, List<String> program, String tmuxPane) {

    /** The assistant of a conversation saved before snapshots named one (v4 and older): claude was the only one. */
    public static final String FIRST_ASSISTANT = "claude";

    public SavedPane {
        options = List.copyOf(options);
        program = List.copyOf(program);
        if (conversation == null) {
            assistant = null;
            conversationCwd = null;
            home = null;
            notRunning = null;
            options = List.of();
        } else if (assistant == null) {
            assistant = FIRST_ASSISTANT;
        }
    }

    /**
     * A pane at {@code window.index}, not active, no cwd known, a shell: the start of a named
     * construction, {@code SavedPane.at(0, 1).active(true).cwd("/p").conversation(id, "/p", null).assistant("codex")}.
     */
    public static SavedPane at(int window, int index) {
        return new SavedPane(window, index, false, "", null, null, null, null, null, List.of(), List.of(), null);
    }

    public SavedPane active(boolean active) {
        return new SavedPane(window, index, active, cwd, assistant, conversation, conversationCwd, home, notRunning, options, program, tmuxPane);
    }

    public SavedPane cwd(String cwd) {
        return new SavedPane(window, index, active, cwd, assistant, conversation, conversationCwd, home, notRunning, options, program, tmuxPane);
    }

    /** Which assistant runs the conversation (set after the conversation; claude unless said). */
    public SavedPane assistant(String assistant) {
        if (conversation == null && assistant != null) throw new IllegalStateException("an assistant for a pane without a conversation: set the conversation first");
        return new SavedPane(window, index, active, cwd, assistant, conversation, conversationCwd, home, notRunning, options, program, tmuxPane);
    }

    /** Running {@code id}, started in {@code startDir}, under the assistant's home {@code home} (null: its default); or none (null id). */
    public SavedPane conversation(String id, String startDir, String home) {
        return new SavedPane(window, index, active, cwd, assistant, id, startDir, home, notRunning, options, program, tmuxPane);
    }

    /** The launch options carried to the conversation's resume (set after the conversation: a pane without one carries none). */
    public SavedPane options(List<String> options) {
        if (conversation == null && !options.isEmpty()) throw new IllegalStateException("launch options for a pane without a conversation: set the conversation first");
        return new SavedPane(window, index, active, cwd, assistant, conversation, conversationCwd, home, notRunning, options, program, tmuxPane);
    }

    /** The program (an argv) the pane comes back running; empty: a shell. */
    public SavedPane program(List<String> program) {
        return new SavedPane(window, index, active, cwd, assistant, conversation, conversationCwd, home, notRunning, options, program, tmuxPane);
    }

    /** The live pane it is ({@code %id@server-start}); null: not known. */
    public SavedPane tmuxPane(String key) {
        return new SavedPane(window, index, active, cwd, assistant, conversation, conversationCwd, home, notRunning, options, program, key);
    }

    /** The same pane at another place (a window of its own, an index that moved). */
    public SavedPane moved(int window, int index) {
        return new SavedPane(window, index, active, cwd, assistant, conversation, conversationCwd, home, notRunning, options, program, tmuxPane);
    }

    public static SavedPane shell(int window, int index, boolean active, String cwd, List<String> program) {
        return at(window, index).active(active).cwd(cwd).program(program);
    }

    public boolean hasConversation() { return conversation != null; }

    public boolean running() { return conversation != null && notRunning == null; }

    /** As {@link SavedSession#wanted()}, for this pane's conversation. */
    public boolean wanted() { return NotRunning.wanted(conversation, notRunning); }

    /** Why its conversation is not running; null: it runs. */
    public SavedPane withNotRunning(NotRunning why) {
        return new SavedPane(window, index, active, cwd, assistant, conversation, conversationCwd, home, why, options, program, tmuxPane);
    }

    /** The same pane with {@code other}'s conversation (a live pane whose assistant died keeps the one it had). */
    public SavedPane withConversationOf(SavedPane other, NotRunning why) {
        return conversation(other.conversation, other.conversationCwd, other.home).assistant(other.assistant).options(other.options).withNotRunning(why);
    }

    /** The same pane, no longer the live pane it was (a restore made a new one in its place). */
    public SavedPane withoutTmuxPane() {
        return tmuxPane(null);
    }

    /** "window.pane", as tmux would say it: for logs. */
    public String address() { return window < 0 ? "its pane" : "pane " + window + "." + index; }
}
