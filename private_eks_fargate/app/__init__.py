"""The app: context parsing, the stage of three stacks that `cdk deploy` deploys, and the pipeline that deploys the
stages of every environment (pipeline.*)."""
