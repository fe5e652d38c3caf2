package base;

//DEPS info.picocli:picocli:4.7.7

import picocli.CommandLine;

/**
 * Runs a picocli command the t3 way: exit codes as the scripts document them, and an unexpected
 * failure as one readable log line (what happened, to whom) rather than a stack trace.
 */
public final class Cli {
    private Cli() {}

    /** Options a command that can show its plan shares: change nothing, and print it for people or for programs. */
    public static final class PlanOptions {
        @CommandLine.Option(names = "--dry-run", description = "print the plan, per row: state now, action, conversation, why; change nothing")
        public boolean dryRun;

        @CommandLine.Option(names = "--json", description = "with --list or --dry-run: one JSON document (an array of objects) on stdout")
        public boolean json;
    }

    public static void exit(Object command, String[] args) {
        CommandLine cli = new CommandLine(command);
        CommandLine.IParameterExceptionHandler picocliSays = cli.getParameterExceptionHandler();
        cli.setParameterExceptionHandler((e, given) -> {
                    // Two options of one group that take one at a time: said in words, as the scripts always have.
                    if (e instanceof CommandLine.MutuallyExclusiveArgsException || e instanceof CommandLine.MaxValuesExceededException) {
                        Log.error("%s go one at a time; see %s --help", oneAtATime(e.getCommandLine()), e.getCommandLine().getCommandName());
                        return CommandLine.ExitCode.USAGE;
                    }
                    return picocliSays.handleParseException(e, given);
                })
                .setExecutionExceptionHandler((e, cmd, parsed) -> {
                    Log.error("%s failed: %s", cmd.getCommandName(), describe(e));
                    if (System.getenv("T3_DEBUG") != null) e.printStackTrace();
                    return e instanceof IllegalArgumentException ? 2 : 1; // bad settings are bad input
                });
        // Settings own every variable and its default: --help shows them from there.
        var usage = cli.getCommandSpec().usageMessage();
        java.util.List<String> footer = new java.util.ArrayList<>(Settings.help());
        footer.addAll(java.util.List.of(usage.footer()));
        usage.footer(footer.toArray(String[]::new));
        System.exit(cli.execute(args));
    }

    /** The options of the command's exclusive groups, in words: "--list, --find and --heal". */
    private static String oneAtATime(CommandLine cmd) {
        java.util.List<String> names = new java.util.ArrayList<>();
        for (CommandLine.Model.ArgGroupSpec g : cmd.getCommandSpec().argGroups()) {
            if (g.exclusive()) g.options().forEach(o -> names.add(o.longestName()));
        }
        if (names.size() < 2) return String.join("", names);
        return String.join(", ", names.subList(0, names.size() - 1)) + " and " + names.get(names.size() - 1);
    }

    /** An exception in words: file-system errors name the file and what went wrong with it. */
    public static String describe(Throwable e) {
        if (e instanceof java.nio.file.FileSystemException f) {
            String what = f.getReason() != null ? f.getReason() : e.getClass().getSimpleName().replace("Exception", "").replaceAll("([a-z])([A-Z])", "$1 $2").toLowerCase();
            return f.getFile() + ": " + what;
        }
        return e.getMessage() != null ? e.getMessage() : e.toString();
    }
}
