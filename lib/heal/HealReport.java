package heal;

import base.Log;
import restore.RestoreVerbs;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A heal plan for a person or a program (--heal --dry-run, with --json): one entry per crash, printed as a restore's plan is. */
public final class HealReport {
    private HealReport() {}

    /** One row of a --heal --dry-run plan. JSON fields: user, session, pane, conversation, action, why. */
    public static Map<String, Object> entry(String user, HealPlan.Step step) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("user", user);
        o.put("session", step.pane() == null ? null : step.pane().session());
        o.put("pane", step.pane() == null ? null : step.pane().id());
        o.put("conversation", step.conversation());
        o.put("action", step.action().token);
        o.put("why", step.why());
        return o;
    }

    public static void print(List<Map<String, Object>> plan, boolean json) throws IOException {
        if (plan.isEmpty() && !json) Log.info("no crash to heal");
        else RestoreVerbs.print(plan, json, List.of("user", "session", "pane", "conversation", "action", "why"));
    }
}
