; Definitions for the symbol index. @name = the defined name, @definition.<kind> = the item.
(function_definition name: (identifier) @name) @definition.function
(class_definition name: (identifier) @name) @definition.class
(module (assignment left: (identifier) @name) @definition.variable)
(module (expression_statement (assignment left: (identifier) @name)) @definition.variable)
(class_definition body: (block (expression_statement (assignment left: (identifier) @name)) @definition.field))
(class_definition body: (block (assignment left: (identifier) @name) @definition.field))
