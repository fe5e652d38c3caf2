package store;

import java.util.Optional;
import tmux.Tmux;

/**
 * A session that was not live when a save found a new tmux server in place of the one the
 * session ran on: it died with that server ({@code server}, {@code pid@start}), as noticed at
 * {@code noticed}. {@code crash} is the evidence that the server was killed, in words (the
 * kernel's OOM line), or null: nobody can tell a crash from the user's kill-server, so only a
 * restore that names the session brings it back.
 */
public record Ended(String server, java.time.Instant noticed, String crash) {
    public boolean crashed() { return crash != null; }

    /** For the log and a plan's why. */
    public String describe() {
        Optional<Tmux.Server> s = Tmux.Server.parse(server);
        String which = s.map(x -> "its tmux server (" + x + ")").orElse("its tmux server");
        return which + (crash != null ? " was killed by " + crash : " ended with no crash on record") + ", noticed " + noticed;
    }
}
