"""The interactive front end of the `pydbg` command (pydbg.cli): a cdb-style prompt
over one client, with the launched program sharing the terminal.

    terminal    the terminal shared with the launched program (process groups, modes)
    interrupts  what Ctrl-C does at the prompt, while a target runs, during a command
    completion  Tab completion: commands, registers, module!symbol, breakpoint ids, paths
    history     where the prompt's history is kept (XDG state directory)
    restart     .restart: the program again, with its arguments and breakpoints
    loop        the read-run-wait loop, Enter repeating the last step or display

prompt_toolkit is imported only when the prompt is about to be shown.
"""
