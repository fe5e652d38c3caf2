package install;

import base.Mode;
import base.Settings;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What one person's shell sets that her user manager does not see: her units run with the
 * manager's environment, not her shell's, so a TMUX_TMPDIR or an XDG folder set in her profile
 * would have her units look elsewhere than her runs by hand. Said by her reconcile, with the fix.
 */
public final class ShellVersusManager {
    private ShellVersusManager() {}

    public static List<String> warnings(Mode mode) {
        List<String> out = new ArrayList<>();
        if (mode.system()) return out;
        Map<String, String> file = Settings.settingsFile(mode.settingsFile());
        String tmp = mode.env().get("TMUX_TMPDIR");
        if (tmp != null && tmp.startsWith("/") && !tmp.equals("/tmp") && !file.containsKey(Settings.TMUX_TMPDIR.name())) {
            out.add("your shell sets TMUX_TMPDIR=" + tmp + ", which your units do not see: they would save and restore a server in /tmp; "
                    + "put " + Settings.TMUX_TMPDIR.name() + "=" + tmp + " in " + mode.settingsFile());
        }
        for (String var : List.of("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")) {
            String v = mode.env().get(var);
            if (v != null && v.startsWith("/")) {
                out.add("your shell sets " + var + "=" + v + "; your user manager must too (systemctl --user set-environment " + var + "=" + v
                        + ", or environment.d), or your units look for their files elsewhere");
            }
        }
        return out;
    }
}
